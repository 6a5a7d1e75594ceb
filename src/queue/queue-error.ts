import { storageFault } from '../core/index.ts';

/**
 * Why the queue refused an operation. Callers branch on `code` (the SMTP layer answers 4xx/5xx from it),
 * never on the message text.
 */
export type QueueErrorCode =
  | 'duplicate-id' // a message with this id is already stored
  | 'invalid-message' // the message would not survive a round trip or breaks an invariant (no recipients, ...)
  | 'unsupported-schema' // the database was migrated by a newer version of hfmail
  | 'unknown-id' // an operator command named a message the queue does not hold
  | 'corrupt-message' // the stored message cannot be decoded (release of a quarantined message that is still bad)
  | 'bad-selection' // an operator selection that cannot apply (hold --state held, an empty domain, ...)
  | 'disk-full' // the disk or quota is full (SQLITE_FULL, ENOSPC): nothing was stored, try again later
  | 'storage-io'; // the storage failed otherwise (SQLITE_IOERR, EIO): nothing was stored, try again later

export class QueueError extends Error {
  override readonly name = 'QueueError';

  constructor(
    readonly code: QueueErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isQueueError(value: unknown): value is QueueError {
  return value instanceof QueueError;
}

/**
 * A fault of the disk under the queue (src/core/storage-fault.ts) as the queue's typed error, the original kept
 * as its cause; any other error is returned as it is.
 */
export function queueStorageError(err: unknown): unknown {
  if (err instanceof QueueError) return err;
  const fault = storageFault(err);
  if (fault === 'full') return new QueueError('disk-full', `the queue's disk is full: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  if (fault === 'io') return new QueueError('storage-io', `the queue's storage failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  return err;
}
