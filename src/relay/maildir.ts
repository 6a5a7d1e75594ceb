import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Delivers one message into a Maildir: written and fsync'd in tmp/, then renamed into new/, then the
 * directory synced, so a reader never sees half a message and a crash never loses a delivered one. With a
 * `key` (message id and recipient) a second delivery of the same thing, after a crash between delivering and
 * recording it, finds the first and writes nothing: exactly once. With a `returnPath` (the reverse-path; '' for
 * the null sender) this is final delivery: `Return-Path: <reverse-path>` goes on top (RFC 5321 4.4).
 */
export function deliverToMaildir(dir: string, content: Uint8Array, now = Date.now(), key?: string, returnPath?: string): string {
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true });
  // <seconds>.M<milliseconds><unique>.<host>, unique being K<key> or P<pid>R<random>
  const unique = key ? `K${key.replace(/[^A-Za-z0-9_-]/g, '_')}` : `P${process.pid}R${randomBytes(6).toString('hex')}`;
  if (key) {
    for (const sub of ['new', 'cur']) {
      const found = readdirSync(path.join(dir, sub)).find((f) => f.includes(`${unique}.`));
      if (found) return path.join(dir, sub, found);
    }
  }
  const name = `${Math.floor(now / 1000)}.M${now % 1000}${unique}.${os.hostname().replace(/[/:.]/g, '_')}`;
  const tmp = path.join(dir, 'tmp', name);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    if (returnPath !== undefined) writeSync(fd, Buffer.from(`Return-Path: <${returnPath}>\r\n`, 'utf8'));
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
