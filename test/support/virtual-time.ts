import type { VirtualClock } from '../../sim/virtual-clock.ts';

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs whole gateways in virtual time while some of their I/O is real (SMTP to Postfix, SQLite, Maildir files):
 * the clock moves to its next timer only while `busy()` is false, so a real SMTP session takes no virtual time
 * and a minute-long fade takes no real time. Between `until` calls the clock stands still.
 */
export class VirtualTimeDriver {
  constructor(
    readonly clock: VirtualClock,
    private readonly busy: () => boolean,
  ) {}

  /** Advances until `done()` holds; fails past `virtualMs` of simulated time or `realMs` of wall time. */
  async until(what: string, done: () => boolean, limits: { virtualMs: number; realMs: number; explain?: () => string }): Promise<void> {
    const start = this.clock.now();
    const fail = (limit: string) => new Error(`${what}: not after ${limit} (${((this.clock.now() - start) / 1000).toFixed(1)} s virtual) ${limits.explain?.() ?? ''}`);
    const virtualEnd = this.clock.now() + limits.virtualMs;
    const realEnd = Date.now() + limits.realMs;
    while (!done()) {
      if (Date.now() > realEnd) throw fail(`${limits.realMs} ms of real time`);
      if (this.clock.now() > virtualEnd) throw fail(`${limits.virtualMs} ms of virtual time`);
      const next = this.clock.nextAt();
      if (this.busy() || next === undefined) {
        await pause(2); // real I/O under way, or nothing scheduled: let the event loop work
        continue;
      }
      await this.clock.runUntil(Math.min(next, virtualEnd + 1));
    }
  }

  /** Lets `virtualMs` of simulated time pass (moving only while nothing is busy); fails past `realMs` of wall time. */
  async advance(virtualMs: number, realMs: number): Promise<void> {
    const end = this.clock.now() + virtualMs;
    const realEnd = Date.now() + realMs;
    while (this.clock.now() < end) {
      if (Date.now() > realEnd) throw new Error(`${virtualMs} ms of virtual time: not within ${realMs} ms of real time`);
      if (this.busy()) {
        await pause(2);
        continue;
      }
      const next = this.clock.nextAt();
      await this.clock.runUntil(next === undefined ? end : Math.min(next, end));
    }
  }
}
