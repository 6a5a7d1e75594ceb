import type { Clock, Timer } from '../src/core/index.ts';

/** The default start of virtual time: a fixed instant, 2027-01-15T08:00:00Z. */
export const DEFAULT_EPOCH_MS = 1_800_000_000_000;

export interface VirtualClockOptions {
  /**
   * Let promises settle after every event in `runUntil` and `runUntilIdle` (one macrotask turn), so asynchronous
   * code (a queue's durable accept, an `async` sink) behaves as it would in real time. Default true; false runs
   * the events back to back, several times faster, for models that are purely synchronous.
   */
  readonly settle?: boolean;
}

interface Entry {
  readonly at: number;
  /** Order of scheduling: ties in time run first-scheduled first. */
  readonly n: number;
  readonly fn: () => void;
  state: 'pending' | 'cancelled' | 'done';
}

const NEVER: Timer = { cancel: () => undefined };
const settleTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Simulated time: timers fire in time order, ties in the order they were set (a binary heap keyed on time and
 * a sequence number), so a run is a pure function of its inputs and an hour of radio traffic runs in moments.
 * Time moves only when an event runs or a runner is told to advance; the wall clock is never read.
 */
export class VirtualClock implements Clock {
  private t: number;
  private readonly heap: Entry[] = [];
  private seq = 0;
  private live = 0;
  private running = false;
  private readonly settle: boolean;
  /** Events run so far. */
  events = 0;

  constructor(start = DEFAULT_EPOCH_MS, opts: VirtualClockOptions = {}) {
    if (!Number.isFinite(start)) throw new RangeError(`VirtualClock: start must be a finite number of ms, not ${start}`);
    this.t = start;
    this.settle = opts.settle ?? true;
  }

  now(): number {
    return this.t;
  }

  /** Runs `fn` once `ms` of virtual time have passed (negative counts as 0; Infinity never fires). */
  setTimer(ms: number, fn: () => void): Timer {
    if (Number.isNaN(ms)) throw new RangeError('VirtualClock.setTimer: ms is NaN');
    if (ms === Infinity) return NEVER;
    const e: Entry = { at: this.t + Math.max(0, ms), n: this.seq++, fn, state: 'pending' };
    this.push(e);
    this.live++;
    return {
      cancel: () => {
        if (e.state !== 'pending') return;
        e.state = 'cancelled';
        this.live--;
      },
    };
  }

  /** Timers set and neither run nor cancelled. */
  get pending(): number {
    return this.live;
  }

  /** When the next timer is due, or undefined when none is pending. */
  nextAt(): number | undefined {
    return this.peek()?.at;
  }

  /**
   * Runs every event due at the next event time, including those that events of this pass schedule for the same
   * instant, in order; time moves to that instant. Synchronous: promises do not settle in between. Returns false
   * when nothing was pending.
   */
  step(): boolean {
    let ran = false;
    this.guard(() => {
      const first = this.peek();
      if (first) while (this.runNext(first.at)) ran = true;
    });
    return ran;
  }

  /** `runUntil` without settling promises in between; returns true while timers remain. */
  runUntilSync(until: number, maxEvents = 10_000_000): boolean {
    this.guard(() => {
      for (let i = 0; this.runNext(until); i++) if (i >= maxEvents) throw tooMany(maxEvents, until);
    });
    this.advanceTo(until);
    return this.live > 0;
  }

  /**
   * Runs the events due up to `until` (ms since the epoch, like `now()`), in order; time then stands at `until`
   * (never moves back). Returns true while timers remain pending beyond it, false when none is left.
   */
  async runUntil(until: number, maxEvents = 10_000_000): Promise<boolean> {
    await this.runAsync(until, maxEvents);
    this.advanceTo(until);
    return this.live > 0;
  }

  /**
   * Runs events until none is pending, or until `limitMs` of virtual time have passed from now (time then stands
   * at that limit). Returns true if the clock went idle, false if the limit stopped it.
   */
  async runUntilIdle(limitMs = Infinity, maxEvents = 10_000_000): Promise<boolean> {
    const until = this.t + limitMs;
    await this.runAsync(until, maxEvents);
    if (this.live === 0) return true;
    this.advanceTo(until);
    return false;
  }

  private async runAsync(until: number, maxEvents: number): Promise<void> {
    if (this.running) throw new Error('VirtualClock: already running (a timer callback may not run the clock)');
    this.running = true;
    try {
      for (let i = 0; this.runNext(until); i++) {
        if (i >= maxEvents) throw tooMany(maxEvents, until);
        if (this.settle) await settleTick();
      }
    } finally {
      this.running = false;
    }
  }

  private guard(body: () => void): void {
    if (this.running) throw new Error('VirtualClock: already running (a timer callback may not run the clock)');
    this.running = true;
    try {
      body();
    } finally {
      this.running = false;
    }
  }

  /** Pops and runs the next live event due at or before `until`; false if there is none. */
  private runNext(until: number): boolean {
    const e = this.peek();
    if (!e || e.at > until) return false;
    this.pop();
    e.state = 'done';
    this.live--;
    this.t = e.at;
    this.events++;
    e.fn();
    return true;
  }

  private advanceTo(until: number): void {
    if (Number.isFinite(until) && until > this.t) this.t = until;
  }

  private peek(): Entry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.state !== 'pending') this.pop();
    return this.heap[0];
  }

  private static less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.n < b.n);
  }

  private push(e: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!VirtualClock.less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && VirtualClock.less(h[r]!, h[l]!) ? r : l;
      if (!VirtualClock.less(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

function tooMany(maxEvents: number, until: number): Error {
  return new Error(`VirtualClock: more than ${maxEvents} events before ${until}`);
}
