/**
 * Bytes of DATA held in memory across all sessions. Each message reserves what it buffers, chunk by chunk, and
 * gives it back when its session is done with it; a message that would pass the cap stops buffering (its bytes
 * are still read, so the client gets an answer) and is refused with 452 4.3.1. Without it, 40 clients sending
 * 9 MB at once hold 360 MB, whatever the message size limit.
 */
export class MemoryBudget {
  private used = 0;

  constructor(readonly capBytes: number) {}

  /** A holder for one message's bytes; `release` returns them all (and is safe to call twice). */
  holder(): BudgetHolder {
    let held = 0;
    return {
      take: (n) => {
        if (this.used + n > this.capBytes) return false;
        this.used += n;
        held += n;
        return true;
      },
      release: () => {
        this.used -= held;
        held = 0;
      },
    };
  }

  get inUse(): number {
    return this.used;
  }
}

export interface BudgetHolder {
  /** Reserves `n` more bytes; false (nothing reserved) when the cap would be passed. */
  take(n: number): boolean;
  release(): void;
}
