import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * SMTP AUTH passwords as scrypt hashes: `scrypt$N$r$p$SALT$KEY`, salt and derived key in base64. The parameters
 * travel in the string, so stronger ones later do not invalidate older entries.
 */
export const PASSWORD_SCHEME = 'scrypt';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** 2^15 x 8: ~32 MiB and a few tens of ms per check, the cost OWASP suggests for scrypt. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Bounds a config entry cannot exceed: a typo must not make every AUTH cost gigabytes. */
const MAX_N = 2 ** 20;
const HASH = /^scrypt\$(\d{1,8})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/]{16,}={0,2})\$([A-Za-z0-9+/]{43}=)$/;

interface ParsedHash extends ScryptParams {
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** Why a stored hash is unusable, or null when it is well formed. */
export function passwordHashProblem(hash: string): string | null {
  const m = HASH.exec(hash);
  if (!m) return 'expected scrypt$N$r$p$SALT$KEY as printed by `hfmail passwd`';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return `scrypt N must be a power of two from 2 to ${MAX_N}`;
  if (r < 1 || p < 1 || p > 16) return 'scrypt r and p must be at least 1 (p at most 16)';
  return null;
}

function parse(hash: string): ParsedHash | null {
  if (passwordHashProblem(hash) !== null) return null;
  const [, n, r, p, salt, key] = HASH.exec(hash)!;
  return { N: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt!, 'base64'), key: Buffer.from(key!, 'base64') };
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is just below our default cost.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT, salt: Buffer = randomBytes(SALT_BYTES)): Promise<string> {
  const key = await derive(password, salt, params);
  return `${PASSWORD_SCHEME}$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A hash to check against for unknown users, so that their AUTH costs the same time as a known user's. */
let decoy: Promise<string> | undefined;

/**
 * Whether `password` matches `hash`; with hash null (no such user) a decoy is checked so the answer takes as long.
 * Both keys are KEY_BYTES long, so timingSafeEqual compares without revealing anything about the password's length.
 */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  decoy ??= hashPassword(randomBytes(12).toString('base64'));
  const stored = parse(hash ?? (await decoy));
  if (!stored) return false;
  const key = await derive(password, stored.salt, stored);
  return timingSafeEqual(key, stored.key) && hash !== null;
}

/**
 * One `users:` entry as a YAML flow mapping, e.g. `{ name: ops, hash: "scrypt$...", maxPriority: 6 }`. The entry of
 * the same user in `configFile` (read as plain YAML, since its plain-text password would fail validation) lends
 * its other fields, so replacing the line keeps the user's priority ceiling; `maxPriority` overrides it.
 */
export async function userEntry(name: string, password: string, opts: { configFile?: string; maxPriority?: number } = {}): Promise<string> {
  let ceiling = opts.maxPriority;
  if (ceiling === undefined && opts.configFile) {
    const doc = parseYaml(readFileSync(opts.configFile, 'utf8')) as { users?: unknown } | null;
    const users = Array.isArray(doc?.users) ? (doc.users as Record<string, unknown>[]) : [];
    const old = users.find((u) => u && typeof u === 'object' && u.name === name)?.maxPriority;
    if (typeof old === 'number') ceiling = old;
  }
  const hash = await hashPassword(password);
  const fields = [`name: ${/^[A-Za-z0-9._@+-]+$/.test(name) ? name : JSON.stringify(name)}`, `hash: ${JSON.stringify(hash)}`];
  if (ceiling !== undefined) fields.push(`maxPriority: ${ceiling}`);
  return `{ ${fields.join(', ')} }`;
}
