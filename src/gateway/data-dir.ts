import { accessSync, constants, mkdirSync } from 'node:fs';
import { ConfigError } from './config.ts';

/**
 * Makes sure the data folder exists and can be written, before the queue opens in it: a folder under a read-only
 * parent or owned by someone else is a configuration error naming `data` and the path, not a bare ENOENT from SQLite.
 */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`data: cannot create or write the data folder ${dir} (${code}); choose a folder this user may write, or fix its permissions`);
  }
}

