import { Heap } from './heap.ts';
import { compareFifo, comparePriority, type Candidate, type SchedulerMode } from './scheduler.ts';

/** What the index reads of a transfer (the sender's OutTransfer). */
export interface Indexed {
  readonly item: { readonly id: string; readonly priority: number; readonly deadline?: number; readonly queuedAt: number };
  readonly state: 'sending' | 'cancelling' | 'deferred';
  readonly opened: boolean;
  readonly probing: boolean;
  readonly retryAt: number;
  /** Bumped whenever the transfer is filed anew: older entries of it in the heaps are stale. */
  stamp: number;
}


/**
 * The sender's transfers, filed by what the scheduler needs so that choosing the next frame costs O(log n) in
 * the backlog, not a scan: those waiting to open in a heap in scheduling order, those open (a few), those being
 * withdrawn or deferred (a few), and every deadline in a heap of its own. Heap entries are not removed from the
 * middle: an entry whose transfer was filed anew (its stamp moved on) or left is skipped when it surfaces.
 */
export class TransferIndex<T extends Indexed> {
  private readonly all = new Map<string, T>();
  /** Transfers waiting to open, in scheduling order (their keys do not change while they wait), each tagged with its stamp. */
  private readonly ready: Heap<T>;
  readonly open = new Set<T>();
  readonly cancelling = new Set<T>();
  private readonly deferred = new Set<T>();
  /** Transfers that may hold more at the peer than acknowledged and wait to open (after a restart). */
  private readonly probes = new Set<T>();
  private readonly deadlines = new Heap<{ t: T; at: number }>((a, b) => a.at < b.at);

  constructor(
    mode: SchedulerMode,
    /** Bytes still to send, as the scheduler's "smallest" reads it, for a transfer waiting to open. */
    private readonly remaining: (t: T) => number,
  ) {
    const cmp = mode === 'fifo' ? compareFifo : comparePriority;
    // The candidate is read from the transfer at each comparison: no copy of its keys per waiting message.
    const candidate = (t: T): Candidate => {
      const { id, priority, deadline, queuedAt } = t.item;
      return { id, priority, deadline, queuedAt, remaining: this.remaining(t) };
    };
    this.ready = new Heap((a, b) => cmp(candidate(a), candidate(b)) < 0);
  }

  get(id: string): T | undefined {
    return this.all.get(id);
  }

  get size(): number {
    return this.all.size;
  }

  values(): IterableIterator<T> {
    return this.all.values();
  }

  /** Whether `t` is (still) the transfer of its message. */
  holds(t: T): boolean {
    return this.all.get(t.item.id) === t;
  }

  add(t: T): void {
    this.all.set(t.item.id, t);
    this.file(t);
    if (t.item.deadline !== undefined) this.deadlines.push({ t, at: t.item.deadline });
  }

  remove(t: T): void {
    if (this.holds(t)) this.all.delete(t.item.id);
    this.file(t);
  }

  /** Files a transfer where the scheduler looks for it, after any change of its state, or of being open. */
  file(t: T): void {
    this.open.delete(t);
    this.cancelling.delete(t);
    this.deferred.delete(t);
    this.probes.delete(t);
    t.stamp++;
    if (!this.holds(t)) return;
    if (t.state === 'cancelling') this.cancelling.add(t);
    else if (t.state === 'deferred') this.deferred.add(t);
    else if (t.opened) this.open.add(t);
    else {
      this.ready.push(t, t.stamp);
      if (t.probing) this.probes.add(t);
    }
  }

  /** Every transfer filed anew (a new session changed them all). */
  fileAll(): void {
    this.ready.clear();
    for (const t of this.all.values()) this.file(t);
  }

  private isReady(t: T, stamp: number): boolean {
    return stamp === t.stamp && this.holds(t) && t.state === 'sending' && !t.opened;
  }

  /** The best transfer waiting to open that `accept` takes (it turns it into the candidate it returns). */
  bestReady<C>(accept: (t: T) => C | undefined): C | undefined {
    const skipped: [T, number][] = [];
    let found: C | undefined;
    for (let t = this.ready.peek(); t; t = this.ready.peek()) {
      const stamp = this.ready.peekTag()!;
      if (!this.isReady(t, stamp)) {
        this.ready.pop();
        continue;
      }
      found = accept(t);
      if (found !== undefined) break;
      skipped.push([this.ready.pop()!, stamp]);
    }
    for (const [t, stamp] of skipped) this.ready.push(t, stamp);
    return found;
  }

  /** The probing transfers waiting to open. */
  readyProbes(): T[] {
    return [...this.probes].filter((t) => this.holds(t) && t.probing && !t.opened && t.state === 'sending');
  }

  /** Transfers whose deadline has passed at `now` and that are not being withdrawn already (each once). */
  expired(now: number): T[] {
    const out: T[] = [];
    for (let e = this.deadlines.peek(); e && e.at <= now; e = this.deadlines.peek()) {
      this.deadlines.pop();
      if (this.holds(e.t) && e.t.state !== 'cancelling') out.push(e.t);
    }
    return out;
  }

  /** Deferred transfers whose back-off is over, for the caller to offer again. */
  dueDeferred(now: number): T[] {
    return [...this.deferred].filter((t) => t.retryAt <= now);
  }

  /** The next moment something is due without the peer's help: a deadline, or a deferred message's retry. */
  nextWakeAt(): number | undefined {
    for (let e = this.deadlines.peek(); e && (!this.holds(e.t) || e.t.state === 'cancelling'); e = this.deadlines.peek()) this.deadlines.pop();
    let at = this.deadlines.peek()?.at;
    for (const t of this.deferred) if (at === undefined || t.retryAt < at) at = t.retryAt;
    return at;
  }
}
