import { DATA_OVERHEAD } from '../codec/link-frame.ts';

/** The sizes a frame's data may have, below the session's limit: a coarse grid, so that the noise of the estimate does not swing the size. */
const SIZES = [32, 64, 128, 256, 512, 1024, 2048];

/** The data sizes a frame may have, up to the session's limit. */
export type FrameSizes = (maxFrame: number) => readonly number[];

/** The sizes of the grid below the limit, and the limit itself (which need not be a power of two: 200 means 200). */
export const frameSizeGrid: FrameSizes = (maxFrame) => [...SIZES.filter((s) => s < maxFrame), maxFrame];
/** Records judged before an estimate is made: a few frames of mixed sizes say little. */
const MIN_SAMPLE = 6;
/** A run of at least this many records lost back to back, among records that arrived, is a fade. */
const FADE_RUN = 3;

export interface Judged {
  /** Frame bytes the bit errors had to miss. */
  readonly bytes: number;
  readonly lost: boolean;
}

/**
 * The channel's bit error rate, estimated from which records the peer acknowledged, and the frame size it calls
 * for. Records of every size count by their own length, so a sample mixing tiny control records and full data
 * records does not swing the estimate; a fade (records lost back to back among ones that arrived) is not bit
 * errors, and does not shrink the frames of a clean link.
 */
export class LossEstimator {
  private ber: number | undefined;
  private n = 0;
  private lost = 0;
  private bits = 0;

  /** `sizes`: the sizes to choose from (the modem's FEC blocks may call for particular ones). */
  constructor(private readonly sizes: FrameSizes = frameSizeGrid) {}

  /** One judgement (a peer's answer), records in the order they were sent. */
  judge(records: readonly Judged[]): void {
    const kept = withoutFade(records);
    for (const r of kept) {
      this.n++;
      this.bits += 8 * r.bytes;
      if (r.lost) this.lost++;
    }
    if (this.n < MIN_SAMPLE) return;
    const p = berFrom(this.lost, this.n, this.bits / this.n);
    this.ber = this.ber === undefined ? p : 0.5 * this.ber + 0.5 * p;
    this.n = this.lost = this.bits = 0;
  }

  get hasEstimate(): boolean {
    return this.ber !== undefined;
  }

  /** Expected loss of a data frame of `size` bytes. */
  frameLoss(size: number): number {
    return 1 - Math.pow(1 - (this.ber ?? 0), 8 * (size + DATA_OVERHEAD));
  }

  /** The data size that maximises expected throughput, never above `maxFrame`; `current` until there is an estimate. */
  frameSize(maxFrame: number, current: number): number {
    if (this.ber === undefined) return Math.min(current, maxFrame);
    return bestFrameSize(this.ber, maxFrame, this.sizes);
  }
}

/** Bit error rate from `lost` of `n` frames of `meanBits` each (all lost: as if half of one had arrived). */
export function berFrom(lost: number, n: number, meanBits: number): number {
  const f = Math.min(lost / n, 1 - 0.5 / n);
  return 1 - Math.pow(1 - f, 1 / meanBits);
}

/** The size among `sizes` (never above `maxFrame`) with the best (L / (L + H)) * (1 - p)^(8(L + H)). */
export function bestFrameSize(ber: number, maxFrame: number, sizes: FrameSizes = frameSizeGrid): number {
  const allowed = sizes(maxFrame).filter((s) => s <= maxFrame);
  if (allowed.length === 0) allowed.push(maxFrame);
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

/**
 * The records minus a fade: one run of FADE_RUN or more lost back to back, when every other record arrived and
 * those are at least as many as the lost ones (an over lost nearly whole says the channel is bad, whatever got
 * through at its end).
 */
export function withoutFade<T extends Judged>(records: readonly T[]): readonly T[] {
  const lostAt = records.flatMap((r, i) => (r.lost ? [i] : []));
  if (lostAt.length < FADE_RUN || 2 * lostAt.length > records.length) return records;
  const first = lostAt[0]!;
  const contiguous = lostAt[lostAt.length - 1]! - first === lostAt.length - 1;
  return contiguous ? records.filter((r) => !r.lost) : records;
}
