import type { Logger } from 'pino';
import type { Clock, StorageFault } from '../core/index.ts';

/** First wait after a storage fault, doubling on every fault after it, up to the cap. */
export const STORAGE_BACKOFF_FIRST_MS = 5_000;
export const STORAGE_BACKOFF_MAX_MS = 5 * 60_000;

interface Faulted {
  readonly kind: StorageFault;
  readonly label: string;
  delayMs: number;
  until: number;
  /** Faults since the state was entered (told when it is left). */
  count: number;
  since: number;
}

/**
 * Storage that is full or failing, per place (a Maildir's destination, or the queue itself): the work for it
 * waits out a backoff (5 s doubling to 5 min, on the injected clock) instead of being tried again at once, and
 * the log has one line when a place enters the state and one when it leaves it, however many attempts between.
 */
export class StorageFaults {
  private readonly faulted = new Map<string, Faulted>();

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** A fault at `key`: enters the state (logged once) or doubles its backoff. */
  fault(key: string, kind: StorageFault, err: unknown, label = key): void {
    const now = this.clock.now();
    const f = this.faulted.get(key);
    if (f) {
      f.delayMs = Math.min(STORAGE_BACKOFF_MAX_MS, f.delayMs * 2);
      f.until = now + f.delayMs;
      f.count++;
      this.log.debug({ err, place: f.label, retryInMs: f.delayMs }, 'storage still failing');
      return;
    }
    this.faulted.set(key, { kind, label, delayMs: STORAGE_BACKOFF_FIRST_MS, until: now + STORAGE_BACKOFF_FIRST_MS, count: 1, since: now });
    const what = kind === 'full' ? 'disk full' : 'storage failing';
    this.log.error({ err: (err as Error)?.message ?? String(err), place: label, fault: kind }, `${what} at ${label}: deliveries there wait (nothing is lost or failed); trying again in 5 s, backing off to 5 min`);
  }

  /** An attempt at `key` went through: leaves the state (logged once). */
  cleared(key: string): void {
    const f = this.faulted.get(key);
    if (!f) return;
    this.faulted.delete(key);
    this.log.info({ place: f.label, fault: f.kind, faults: f.count, forS: Math.round((this.clock.now() - f.since) / 1000) }, `storage at ${f.label} works again: deliveries there resume`);
  }

  /** Whether work at `key` must wait now. */
  blocked(key: string, now: number): boolean {
    const f = this.faulted.get(key);
    return f !== undefined && now < f.until;
  }

  /** The earliest end of a backoff, if any place is faulted. */
  resumeAt(): number | undefined {
    let at: number | undefined;
    for (const f of this.faulted.values()) at = at === undefined ? f.until : Math.min(at, f.until);
    return at;
  }

  /** Places in the state now, for tests and status. */
  get places(): readonly string[] {
    return [...this.faulted.values()].map((f) => f.label);
  }
}
