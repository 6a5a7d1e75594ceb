import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { verifyPassword } from './passwords.ts';

/** Whether a `web:` host is a loopback address (or localhost): only this machine can reach the console there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** How long a checked password is remembered: the page polls every few seconds and scrypt costs tens of ms. */
const REMEMBER_MS = 5 * 60_000;
const MAX_REMEMBERED = 64;

/**
 * HTTP Basic authentication against the station's SMTP users (their scrypt hashes). A good password is
 * remembered for a few minutes by a hash of the header, so polling does not run scrypt every time; an unknown
 * user costs the same time as a wrong password (passwords.ts checks a decoy).
 */
export class BasicAuth {
  private readonly remembered = new Map<string, { user: string; until: number }>();

  constructor(
    private readonly users: readonly { name: string; hash: string }[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The user an `Authorization` header proves, or null. */
  async check(header: string | undefined): Promise<string | null> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!m) return null;
    const key = createHash('sha256').update(m[1]!).digest('base64');
    const now = this.now();
    const hit = this.remembered.get(key);
    if (hit && hit.until > now) return hit.user;
    this.remembered.delete(key);
    const text = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    const name = text.slice(0, colon);
    const user = this.users.find((u) => u.name === name);
    if (!(await verifyPassword(text.slice(colon + 1), user?.hash ?? null)) || !user) return null;
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, { user: user.name, until: now + REMEMBER_MS });
    return user.name;
  }
}
