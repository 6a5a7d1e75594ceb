import { storageFault, type QueuedMessage } from '../core/index.ts';
import { isQueueError, queueStorageError } from './queue-error.ts';

/** What the group commit writes through: the queue's insert and its (nestable) transaction. */
export interface BatchableStore {
  insert(message: QueuedMessage): void;
  transaction<T>(fn: () => T): T;
}

interface Pending {
  readonly message: QueuedMessage;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit: messages whose DATA ends in the same turn of the event loop share one transaction and one fsync.
 * Each promise settles only after that commit returned, so an SMTP 250 still means "on disk". Each message is
 * its own savepoint: one that fails (a duplicate id, an invalid message) is refused alone; a storage fault
 * (full disk, I/O error) fails the whole batch, since its commit cannot be trusted for any of them.
 */
export class GroupCommit {
  private batch: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly store: BatchableStore,
    /** Most messages per commit: bounds how long one commit holds the event loop. */
    private readonly maxBatch = 256,
  ) {}

  insert(message: QueuedMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.batch.push({ message, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // After the poll phase: every DATA that ended in this turn has joined the batch by then.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is waiting now (also called by the timer). */
  flush(): void {
    this.scheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const refused = new Map<Pending, unknown>();
    try {
      this.store.transaction(() => {
        for (const p of batch) {
          try {
            this.store.insert(p.message);
          } catch (err) {
            if (storageFault(err) !== null || !isQueueError(err)) throw err;
            refused.set(p, err);
          }
        }
      });
    } catch (err) {
      const fault = queueStorageError(err);
      for (const p of batch) p.reject(fault);
      return;
    }
    for (const p of batch) {
      if (refused.has(p)) p.reject(refused.get(p));
      else p.resolve();
    }
  }
}
