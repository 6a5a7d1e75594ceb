import type { SeededRandom } from './seeded-random.ts';

/**
 * Gilbert-Elliott bursts: a good and a bad state, each with its own bit error rate; the state changes between
 * bits with the given probabilities (or, equivalently, after geometric dwells of the given mean lengths).
 */
export type GilbertElliott = { readonly good: number; readonly bad: number } & (
  | { readonly pGoodToBad: number; readonly pBadToGood: number }
  | { readonly meanGoodBits: number; readonly meanBadBits: number }
);

/** Bit errors: a constant rate per bit, or Gilbert-Elliott bursts. */
export type BitErrors = number | GilbertElliott;

/** Flips bits of the bytes in place, as the next stretch of the bit stream, and returns how many it flipped. */
export type ErrorSource = (bytes: Uint8Array) => number;

/** Per-bit state changes of a Gilbert-Elliott model, whichever way it was given. */
export function transitions(ge: GilbertElliott): { pGoodToBad: number; pBadToGood: number } {
  if ('pGoodToBad' in ge) return { pGoodToBad: ge.pGoodToBad, pBadToGood: ge.pBadToGood };
  return { pGoodToBad: 1 / ge.meanGoodBits, pBadToGood: 1 / ge.meanBadBits };
}

/** The long-run bit error rate (the stationary mix of the two states). */
export function averageBer(ber: BitErrors): number {
  if (typeof ber === 'number') return ber;
  const { pGoodToBad, pBadToGood } = transitions(ber);
  const total = pGoodToBad + pBadToGood;
  return total === 0 ? ber.good : (ber.good * pBadToGood + ber.bad * pGoodToBad) / total;
}

/** Throws a RangeError naming the field if a rate or probability is out of range. */
export function checkBitErrors(ber: BitErrors, name = 'ber'): void {
  const prob = (v: number, key: string) => {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${key} must be a probability (0..1), not ${v}`);
  };
  if (typeof ber === 'number') return prob(ber, name);
  prob(ber.good, `${name}.good`);
  prob(ber.bad, `${name}.bad`);
  const t = transitions(ber);
  prob(t.pGoodToBad, 'pGoodToBad' in ber ? `${name}.pGoodToBad` : `${name}.meanGoodBits (as 1/bits)`);
  prob(t.pBadToGood, 'pBadToGood' in ber ? `${name}.pBadToGood` : `${name}.meanBadBits (as 1/bits)`);
}

/**
 * A stateful error process over one direction's bit stream. It draws the gap to the next error (and the dwell in
 * each Gilbert-Elliott state) geometrically, so the cost is per error, not per bit. Bits count LSB first, as a
 * UART sends them. The burst state starts good.
 */
export function createErrorSource(ber: BitErrors, rng: SeededRandom): ErrorSource {
  checkBitErrors(ber);
  if (typeof ber === 'number' || ber.good === ber.bad) {
    const rate = typeof ber === 'number' ? ber : ber.good;
    let gap = rng.geometric(rate); // 1-based position of the next error from the current bit
    return (bytes) => {
      const bits = bytes.length * 8;
      let flips = 0;
      while (gap <= bits) {
        const p = gap - 1;
        bytes[p >> 3]! ^= 1 << (p & 7);
        flips++;
        gap += rng.geometric(rate);
      }
      gap -= bits;
      return flips;
    };
  }
  const { pGoodToBad, pBadToGood } = transitions(ber);
  let bad = false;
  let dwell = rng.geometric(pGoodToBad); // bits left in this state, counting the current one
  let gap = rng.geometric(ber.good);
  return (bytes) => {
    const bits = bytes.length * 8;
    let pos = 0;
    let flips = 0;
    while (pos < bits) {
      const span = Math.min(dwell, bits - pos);
      const rate = bad ? ber.bad : ber.good;
      while (gap <= span) {
        const p = pos + gap - 1;
        bytes[p >> 3]! ^= 1 << (p & 7);
        flips++;
        gap += rng.geometric(rate);
      }
      gap -= span;
      dwell -= span;
      pos += span;
      if (dwell === 0) {
        bad = !bad;
        dwell = rng.geometric(bad ? pBadToGood : pGoodToBad);
        gap = rng.geometric(bad ? ber.bad : ber.good);
      }
    }
    return flips;
  };
}
