/**
 * Faults of the storage under us, classified once so that every layer reacts the same way: the message stays
 * where it is and is tried again later, and nothing is recorded as done. `full` is a full disk or quota
 * (ENOSPC, EDQUOT, SQLITE_FULL, a short write); `io` is any other failure of the device (EIO, EROFS, SQLITE_IOERR).
 */
export type StorageFault = 'full' | 'io';

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'ESHORTWRITE']);
const IO = new Set(['EIO', 'EROFS', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']);

/** The storage fault an error stands for, or null when it is something else (a bug, a refusal, bad input). */
export function storageFault(err: unknown): StorageFault | null {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (FULL.has(code) || code.startsWith('SQLITE_FULL')) return 'full';
    if (IO.has(code) || code.startsWith('SQLITE_IOERR')) return 'io';
  }
  return null;
}

/** A write that stored fewer bytes than asked: treated as a full disk (the usual cause). */
export class ShortWriteError extends Error {
  override readonly name = 'ShortWriteError';
  readonly code = 'ESHORTWRITE';
  constructor(
    readonly written: number,
    readonly expected: number,
    what: string,
  ) {
    super(`short write to ${what}: ${written} of ${expected} bytes`);
  }
}
