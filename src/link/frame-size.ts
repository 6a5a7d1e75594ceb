import { DATA_OVERHEAD } from '../codec/link-frame.ts';

const SIZES = [32, 64, 128, 256, 512, 1024, 2048];

/**
 * The data size per frame that maximises expected throughput for a measured frame loss rate: estimate the bit
 * error rate from the loss at the current size, then pick the size with the best (L / (L + H)) * (1 - p)^(8(L + H)).
 * Small frames on bad HF, large ones on clean links; never above the profile's limit.
 */
export function chooseFrameSize(current: number, lossRate: number, maxFrame: number): number {
  const allowed = SIZES.filter((s) => s <= maxFrame);
  if (allowed.length === 0) return maxFrame;
  const loss = Math.min(Math.max(lossRate, 0), 0.99);
  const bitsPerFrame = 8 * (current + DATA_OVERHEAD);
  const ber = 1 - Math.pow(1 - loss, 1 / bitsPerFrame);
  let best = allowed[0]!;
  let bestEff = -1;
  for (const s of allowed) {
    const eff = (s / (s + DATA_OVERHEAD)) * Math.pow(1 - ber, 8 * (s + DATA_OVERHEAD));
    if (eff > bestEff) {
      bestEff = eff;
      best = s;
    }
  }
  return best;
}
