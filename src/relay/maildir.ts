import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Delivers one message into a Maildir: written and fsync'd in tmp/, then renamed into new/, then the
 * directory synced, so a reader never sees half a message and a crash never loses a delivered one.
 */
export function deliverToMaildir(dir: string, content: Uint8Array, now = Date.now()): string {
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true });
  const name = `${Math.floor(now / 1000)}.M${now % 1000}P${process.pid}R${randomBytes(6).toString('hex')}.${os.hostname().replace(/[/:]/g, '_')}`;
  const tmp = path.join(dir, 'tmp', name);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const final = path.join(dir, 'new', name);
  renameSync(tmp, final);
  const dfd = openSync(path.join(dir, 'new'), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  return final;
}
