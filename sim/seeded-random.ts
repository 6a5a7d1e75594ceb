import type { Random } from '../src/core/index.ts';

/**
 * sfc32 seeded through splitmix32: small, fast, and the same sequence for the same 32-bit seed on every platform.
 * Every random choice of the simulator comes from one of these, so a run replays from its seed.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const mix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
  }

  /** The next 32 random bits, as an unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`SeededRandom.int: n must be positive, not ${n}`);
    return Math.floor(this.next() * n);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** Trials until the first success of probability p (at least 1); Infinity when p is 0. */
  geometric(p: number): number {
    if (p <= 0) return Infinity;
    if (p >= 1) return 1;
    // log1p keeps tiny probabilities (a BER of 1e-9) exact where log(1 - p) would round to 0.
    return 1 + Math.floor(Math.log(1 - this.next()) / Math.log1p(-p));
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A fresh generator derived from this one, for an independent stream. */
  fork(): SeededRandom {
    return new SeededRandom(this.int(2 ** 32));
  }
}
