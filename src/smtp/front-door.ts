import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { Clock } from '../core/index.ts';
import { AuthGuard, type AuthLimits } from './auth-guard.ts';
import { ConnectionLimits, type ConnectionCaps } from './connection-limits.ts';
import { MemoryBudget } from './memory-budget.ts';
import { refusal, SmtpRefusal, type SmtpReply } from './replies.ts';

export interface FrontDoorPolicy {
  readonly auth: AuthLimits & {
    /** AUTH without TLS from 127.0.0.0/8 and ::1 (a local submission agent); never from another address. */
    readonly allowPlaintextOnLoopback: boolean;
  };
  readonly authEnabled: boolean;
  readonly connections: ConnectionCaps;
  readonly maxDataBytesInMemory: number;
  /** The free-space floor of the data folder's disk; absent, MAIL never checks. */
  readonly storage?: { readonly minFreeBytes: number; freeBytes(): number };
}

/** How long a free-space reading is trusted: statfs at most this often, however busy MAIL is. */
const FREE_SPACE_TTL_MS = 5000;

type Session = SMTPServerSession & { hfCounted?: boolean };

/**
 * What the front end does before any mail grammar: who may connect (per-client and total caps), who may AUTH and
 * how fast (TLS first, failures delayed and limited), how much DATA may sit in memory, and whether the disk has
 * room for another message. One object per server, on the injected clock.
 */
export class FrontDoor {
  readonly authGuard: AuthGuard;
  readonly connections: ConnectionLimits;
  readonly budget: MemoryBudget;
  private free?: { at: number; ok: boolean };

  constructor(
    private readonly policy: FrontDoorPolicy,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.authGuard = new AuthGuard(policy.auth, clock, log);
    this.connections = new ConnectionLimits(policy.connections, clock, log);
    this.budget = new MemoryBudget(policy.maxDataBytesInMemory);
  }

  /** smtp-server's onConnect: a connection over a cap is answered 421 4.7.0 and closed. */
  admit(session: Session): SmtpRefusal | null {
    const verdict = this.connections.acquire(session.remoteAddress);
    if (verdict === 'ok') {
      session.hfCounted = true;
      return null;
    }
    const text = verdict === 'total' ? 'Too many connections; try again later' : 'Too many connections from your address; try again later';
    return new SmtpRefusal(refusal('too-many-connections', text));
  }

  /** smtp-server's onClose: gives the slot back (only for connections that took one). */
  leave(session: Session): void {
    if (!session.hfCounted) return;
    session.hfCounted = false;
    this.connections.release(session.remoteAddress);
  }

  /** RFC 4954 section 4: mechanisms that send the password readably are for TLS sessions only. */
  private authAllowedHere(session: SMTPServerSession): boolean {
    return session.secure || (this.policy.auth.allowPlaintextOnLoopback && isLoopback(session.remoteAddress));
  }

  offerAuth(session: SMTPServerSession): boolean {
    return this.policy.authEnabled && this.authAllowedHere(session);
  }

  authRefusal(session: SMTPServerSession): SmtpReply | null {
    if (!this.authAllowedHere(session)) return refusal('auth-encryption-required', 'Encryption required for requested authentication mechanism');
    if (!this.authGuard.mayTry(session.remoteAddress)) return refusal('auth-rate-limited', 'Too many failed authentications from your address; try again later');
    return null;
  }

  /** The free-space floor at MAIL: 452 4.3.1 while the disk is below it (read at most every few seconds). */
  storageRefusal(): SmtpReply | null {
    const storage = this.policy.storage;
    if (!storage || storage.minFreeBytes <= 0) return null;
    const now = this.clock.now();
    if (!this.free || now - this.free.at >= FREE_SPACE_TTL_MS || now < this.free.at) {
      let ok = true;
      try {
        ok = storage.freeBytes() >= storage.minFreeBytes;
      } catch (err) {
        this.log.warn({ err }, 'cannot read free space of the data folder; accepting mail');
      }
      if (this.free && this.free.ok !== ok) this.log.warn({ minFreeBytes: storage.minFreeBytes }, ok ? 'free space above the floor again: accepting mail' : 'free space below the floor: refusing new mail with 452 4.3.1');
      else if (!this.free && !ok) this.log.warn({ minFreeBytes: storage.minFreeBytes }, 'free space below the floor: refusing new mail with 452 4.3.1');
      this.free = { at: now, ok };
    }
    return this.free.ok ? null : refusal('storage-full', `Insufficient system storage; try again later`);
  }
}

/** 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6 (::ffff:127.0.0.1). */
export function isLoopback(address: string): boolean {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain) || plain === '::1' || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(plain);
}
