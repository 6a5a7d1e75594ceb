import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
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

/**
 * Creates each local Maildir of the routes (new, cur, tmp) at start, so that an operator can look into one before
 * its first message; the relay creates them again if they go. A folder that cannot be made is returned, not
 * thrown: delivery into it fails and retries, and says why, like any other delivery fault.
 */
export function ensureMaildirs(routes: readonly { via: string }[], baseDir: string): { dir: string; error: string }[] {
  const problems: { dir: string; error: string }[] = [];
  for (const r of routes) {
    if (!r.via.startsWith('maildir:')) continue;
    const dir = path.resolve(baseDir, r.via.slice('maildir:'.length));
    try {
      for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o700 });
    } catch (err) {
      problems.push({ dir, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
  }
  return problems;
}
