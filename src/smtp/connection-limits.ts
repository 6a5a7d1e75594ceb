import type { Logger } from 'pino';
import type { Clock } from '../core/index.ts';

export interface ConnectionCaps {
  readonly total: number;
  readonly perClient: number;
}

/** At most this many refusal lines per interval; the rest are counted into the next line. */
const LOG_BURST = 5;
const LOG_INTERVAL_MS = 10_000;

/**
 * Open SMTP sessions, in total and per client address. A connection over either cap is refused (the caller
 * answers 421 4.7.0 and closes), so one client cannot take every descriptor from the others. Refusals are logged
 * one line each, but in a flood only LOG_BURST lines per interval, the next line saying how many were not logged.
 */
export class ConnectionLimits {
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  private logWindowStart = Number.NEGATIVE_INFINITY;
  private loggedInWindow = 0;
  private unlogged = 0;

  constructor(
    private readonly caps: ConnectionCaps,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Takes a slot for the address, or says which cap refuses it. */
  acquire(address: string): 'ok' | 'total' | 'client' {
    const mine = this.perAddress.get(address) ?? 0;
    const refusal = this.open >= this.caps.total ? 'total' : mine >= this.caps.perClient ? 'client' : null;
    if (refusal) {
      this.noteRefusal(address, refusal, mine);
      return refusal;
    }
    this.open++;
    this.perAddress.set(address, mine + 1);
    return 'ok';
  }

  release(address: string): void {
    const mine = this.perAddress.get(address) ?? 0;
    if (mine <= 0) return;
    this.open--;
    if (mine === 1) this.perAddress.delete(address);
    else this.perAddress.set(address, mine - 1);
  }

  get size(): number {
    return this.open;
  }

  private noteRefusal(address: string, cap: 'total' | 'client', mine: number): void {
    const now = this.clock.now();
    if (now - this.logWindowStart >= LOG_INTERVAL_MS) {
      this.logWindowStart = now;
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow >= LOG_BURST) {
      this.unlogged++;
      return;
    }
    this.loggedInWindow++;
    const fields = { client: address, cap, open: this.open, fromClient: mine, limit: cap === 'total' ? this.caps.total : this.caps.perClient, ...(this.unlogged ? { notLogged: this.unlogged } : {}) };
    this.unlogged = 0;
    this.log.warn(fields, cap === 'total' ? 'connection refused: too many connections' : 'connection refused: too many connections from this client');
  }
}
