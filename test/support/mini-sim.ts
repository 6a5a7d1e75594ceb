// A minimal virtual clock and wire for early link tests (the full channel model lives in sim/).
import type { Clock, Random, Timer } from '../../src/core/index.ts';
import type { LinkPort } from '../../src/link/link-port.ts';

export class TestClock implements Clock {
  t = 1_800_000_000_000;
  private q: { at: number; n: number; fn: () => void; dead: boolean }[] = [];
  private n = 0;
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): Timer {
    const e = { at: this.t + Math.max(0, ms), n: this.n++, fn, dead: false };
    this.q.push(e);
    return { cancel: () => (e.dead = true) };
  }
  /** Runs events in time order, letting promises settle between them. */
  async run(untilMs: number): Promise<void> {
    for (;;) {
      this.q = this.q.filter((e) => !e.dead);
      if (!this.q.length) return;
      this.q.sort((a, b) => a.at - b.at || a.n - b.n);
      const e = this.q.shift()!;
      if (e.at > untilMs) {
        this.q.unshift(e);
        return;
      }
      this.t = e.at;
      e.fn();
      await new Promise((r) => setImmediate(r));
    }
  }
}

export function testRandom(seed = 1): Random {
  let s = seed >>> 0;
  return {
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        s = (s * 1664525 + 1013904223) >>> 0;
        out[i] = s >>> 24;
      }
      return out;
    },
  };
}

/** Two ports joined by a wire with a bit rate, a turnaround at key-up, and an optional byte filter. */
export function wire(clock: TestClock, bitRate: number, turnaroundMs: number, mangle?: (b: Uint8Array, from: 'a' | 'b') => Uint8Array | null) {
  const make = (name: 'a' | 'b') => {
    const listeners: ((c: Uint8Array) => void)[] = [];
    let busyUntil = 0;
    let sent = 0;
    let keyUps = 0;
    const port: LinkPort & { other?: typeof port; deliver(c: Uint8Array): void; stats: () => { sent: number; keyUps: number } } = {
      write(data) {
        const now = clock.now();
        if (busyUntil < now) {
          busyUntil = now + turnaroundMs;
          keyUps++;
        }
        busyUntil += (data.length * 8 * 1000) / bitRate;
        sent += data.length;
        const copy = Uint8Array.from(data);
        clock.setTimer(busyUntil - now, () => {
          const d = mangle ? mangle(copy, name) : copy;
          if (d) port.other!.deliver(d);
        });
      },
      onData(l) {
        listeners.push(l);
      },
      onClose() {},
      async close() {},
      deliver(c) {
        for (const l of listeners) l(c);
      },
      stats: () => ({ sent, keyUps }),
    };
    return port;
  };
  const a = make('a');
  const b = make('b');
  a.other = b;
  b.other = a;
  return { a, b };
}
