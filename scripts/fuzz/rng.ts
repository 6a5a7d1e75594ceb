/**
 * A small seeded generator (sfc32) for the fuzz loops: the same seed gives the same inputs, so a crash is
 * replayed from the seed and case number it prints. Not for anything secret.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ seed;
    this.b = 0x243f6a88 ^ stream;
    this.c = 0xb7e15162 ^ Math.imul(seed, 0x85ebca6b);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 0 <= n < max. */
  int(max: number): number {
    return max <= 1 ? 0 : Math.floor((this.u32() / 2 ** 32) * max);
  }

  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const v = this.u32();
      out[i] = v;
      out[i + 1] = v >>> 8;
      out[i + 2] = v >>> 16;
      out[i + 3] = v >>> 24;
    }
    for (; i < n; i++) out[i] = this.u32();
    return out;
  }

  /** A length that is usually small and sometimes large: most bugs hide at the edges. */
  size(max: number): number {
    const r = this.int(10);
    if (r < 6) return this.int(Math.min(max, 16) + 1);
    if (r < 9) return this.int(Math.min(max, 512) + 1);
    return this.int(max + 1);
  }
}

/** The case's own seed, from the run's seed and its number: case N is replayed alone with --case N. */
export function caseRng(seed: number, n: number): Rng {
  return new Rng(seed, n);
}

/** Mutations of a valid input: flips, overwrites with edge bytes, insertions, deletions, truncation, repeats. */
export function mutate(rng: Rng, input: Uint8Array, edge: readonly number[] = [0x00, 0xff, 0x7f, 0x80, 0xc0, 0xdb, 0xdc, 0xdd]): Uint8Array {
  let b = Buffer.from(input);
  const n = 1 + rng.int(rng.chance(0.8) ? 3 : 16);
  for (let i = 0; i < n; i++) {
    const at = rng.int(b.length + 1);
    const last = Math.min(at, b.length - 1);
    switch (rng.int(7)) {
      case 0:
        if (b.length) b[last]! ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.length) b[last] = rng.pick(edge);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.size(32)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.size(32))]);
        break;
      case 4:
        b = b.subarray(0, at);
        break;
      case 5: {
        const from = rng.int(b.length + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + rng.size(64)), b.subarray(at)]);
        break;
      }
      default:
        if (b.length) b[last] = rng.u32() & 0xff;
    }
  }
  return b;
}
