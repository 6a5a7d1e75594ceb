/** Which message's bytes go next: the scheduling decision as a pure function. */
export type SchedulerMode = 'priority' | 'fifo';

export interface Candidate {
  readonly id: string;
  readonly priority: number;
  readonly deadline?: number;
  /** Bytes still to send. */
  readonly remaining: number;
  readonly queuedAt: number;
}

/** Highest priority first, then the earliest deadline, then the smallest remainder, then the oldest. */
export function comparePriority(a: Candidate, b: Candidate): number {
  return (
    b.priority - a.priority ||
    (a.deadline ?? Infinity) - (b.deadline ?? Infinity) ||
    a.remaining - b.remaining ||
    a.queuedAt - b.queuedAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function compareFifo(a: Candidate, b: Candidate): number {
  return a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function pickNext<C extends Candidate>(candidates: readonly C[], mode: SchedulerMode): C | undefined {
  const cmp = mode === 'fifo' ? compareFifo : comparePriority;
  let best: C | undefined;
  for (const c of candidates) if (c.remaining > 0 && (!best || cmp(c, best) < 0)) best = c;
  return best;
}
