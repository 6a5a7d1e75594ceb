import type { Logger } from 'pino';
import type { Clock } from '../core/index.ts';

export interface AuthLimits {
  /** Failures from one client address within the window before AUTH is refused outright. */
  readonly maxFailures: number;
  readonly failureWindowMs: number;
  /** The answer to a failure is delayed 1 s, doubling per recent failure of that address, up to this. */
  readonly maxDelayMs: number;
}

const FIRST_DELAY_MS = 1000;
const MAX_TRACKED = 10_000;

/**
 * Failed AUTH per client address, in the injected clock's time: each failure is answered late (so guessing costs
 * time even across parallel connections from one address), and past `maxFailures` in the window the address may
 * not try again until its oldest failure leaves the window. Success does not wipe the record: an attacker who
 * knows one password must not reset the count for guessing others.
 */
export class AuthGuard {
  /** Failure times per address, oldest first; pruned as the window moves. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: AuthLimits,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Whether this address may try AUTH now. */
  mayTry(address: string): boolean {
    return this.recent(address).length < this.limits.maxFailures;
  }

  /** Notes a failure (logged once, with the address and the user name, never the password); resolves after the delay. */
  failed(address: string, user: string, mechanism: string): Promise<void> {
    if (this.failures.size > MAX_TRACKED) for (const a of [...this.failures.keys()]) this.recent(a); // many addresses: drop stale ones
    const times = this.recent(address);
    times.push(this.clock.now());
    this.failures.set(address, times);
    const delayMs = Math.min(this.limits.maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(times.length - 1, 20));
    const locked = times.length >= this.limits.maxFailures;
    this.log.warn({ client: address, user, mechanism, failures: times.length, delayMs, locked }, locked ? 'AUTH failed; client refused AUTH for now' : 'AUTH failed');
    return new Promise((resolve) => this.clock.setTimer(delayMs, resolve));
  }

  private recent(address: string): number[] {
    const since = this.clock.now() - this.limits.failureWindowMs;
    const times = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (times.length) this.failures.set(address, times);
    else this.failures.delete(address);
    return times;
  }
}
