import type { Clock, Timer } from '../src/core/index.ts';

interface Entry {
  at: number;
  n: number;
  fn: () => void;
  dead: boolean;
}

/**
 * Simulated time: timers fire in time order (ties in the order they were set), and an hour of radio traffic
 * runs in moments. Between events the runner lets promises settle, so asynchronous code (a queue's durable
 * accept) behaves as it would in real time.
 */
export class VirtualClock implements Clock {
  private t: number;
  private heap: Entry[] = [];
  private seq = 0;
  events = 0;

  constructor(start = 1_800_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const e: Entry = { at: this.t + Math.max(0, ms), n: this.seq++, fn, dead: false };
    this.push(e);
    return { cancel: () => void (e.dead = true) };
  }

  /** Runs events up to `until` (ms since the epoch); time then stands at `until`. Returns false if none is left. */
  async runUntil(until: number, maxEvents = 10_000_000): Promise<boolean> {
    for (let i = 0; i < maxEvents; i++) {
      const e = this.peek();
      if (!e) {
        if (Number.isFinite(until)) this.t = Math.max(this.t, until);
        return false;
      }
      if (e.at > until) {
        this.t = until;
        return true;
      }
      this.pop();
      if (e.dead) continue;
      this.t = e.at;
      this.events++;
      e.fn();
      await new Promise<void>((r) => setImmediate(r));
    }
    throw new Error(`more than ${maxEvents} events before ${until}`);
  }

  private peek(): Entry | undefined {
    while (this.heap.length && this.heap[0]!.dead) this.pop();
    return this.heap[0];
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.n < b.n);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
