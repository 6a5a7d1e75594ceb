/** Sequence numbers are 16-bit and wrap; comparisons are made relative to a base within half the space. */
export const SEQ_MOD = 0x10000;

/** How far `seq` lies ahead of `base` (negative when behind). */
export function seqDiff(seq: number, base: number): number {
  const d = (seq - base) & 0xffff;
  return d < 0x8000 ? d : d - SEQ_MOD;
}

export function seqAdd(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}
