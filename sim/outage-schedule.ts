import type { SeededRandom } from './seeded-random.ts';

/** A fade at a fixed time, relative to the channel's start. */
export interface Outage {
  readonly atMs: number;
  readonly durationMs: number;
}

/** Fades at random: their starts form a Poisson process, their durations are exponential. */
export interface RandomOutages {
  readonly meanIntervalMs: number;
  readonly meanDurationMs: number;
}

/** A half-open time interval [from, to), in ms. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}

/**
 * When the channel is faded: the fixed outages plus random ones drawn lazily, in time order, from their own
 * random stream (so how far ahead anyone asks does not change what is drawn). Times are relative to the start.
 */
export class OutageSchedule {
  private readonly fixed: Interval[];
  private readonly random: Interval[] = [];
  private nextStart = 0;
  private longest = 0;

  constructor(
    fixed: readonly Outage[],
    private readonly randomSpec?: RandomOutages,
    private readonly rng?: SeededRandom,
  ) {
    fixed.forEach((o, i) => {
      if (!Number.isFinite(o.atMs) || !(o.durationMs >= 0)) throw new RangeError(`outages[${i}]: atMs must be finite and durationMs >= 0`);
    });
    this.fixed = fixed.map((o) => ({ from: o.atMs, to: o.atMs + o.durationMs })).filter((o) => o.to > o.from);
    if (randomSpec) {
      if (!(randomSpec.meanIntervalMs > 0) || !(randomSpec.meanDurationMs >= 0)) throw new RangeError('randomOutages: meanIntervalMs must be > 0 and meanDurationMs >= 0');
      if (!rng) throw new Error('randomOutages need a random source');
    }
  }

  /** The outages that overlap [from, to), in order of their start. */
  overlapping(from: number, to: number): Interval[] {
    const hit = this.fixed.filter((o) => o.from < to && o.to > from);
    if (this.randomSpec) {
      this.drawUntil(to);
      const r = this.random;
      // Binary search for the first outage that could still be running at `from`.
      let lo = 0;
      let hi = r.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (r[mid]!.from < from - this.longest) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < r.length && r[i]!.from < to; i++) if (r[i]!.to > from) hit.push(r[i]!);
      hit.sort((x, y) => x.from - y.from);
    }
    return hit;
  }

  /** Whether the channel is faded at time t. */
  isOut(t: number): boolean {
    return this.overlapping(t, t + 1).some((o) => o.from <= t && t < o.to);
  }

  private drawUntil(t: number): void {
    const spec = this.randomSpec!;
    const rng = this.rng!;
    while (this.nextStart < t) {
      // The first draw is the gap from the start, as every later one is the gap from the previous outage's start.
      this.nextStart += rng.exponential(spec.meanIntervalMs);
      const duration = rng.exponential(spec.meanDurationMs);
      if (duration > 0) this.random.push({ from: this.nextStart, to: this.nextStart + duration });
      this.longest = Math.max(this.longest, duration);
    }
  }
}
