import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ShortWriteError } from '../core/index.ts';

/** Creates a Maildir's tmp, new and cur folders (only its owner may enter them) where they are missing. */
export function makeMaildir(dir: string): void {
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o700 });
}

/** The file calls delivery makes that a test may replace to inject a short write or a full disk. */
export interface MaildirIo {
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
}

const realIo: MaildirIo = { writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length) };

/**
 * Delivers one message into a Maildir: written whole (every write's byte count checked) and fsync'd in tmp/,
 * then renamed into new/, then the directory synced, so a reader never sees half a message and a crash never
 * loses a delivered one. A full disk (ENOSPC, a short write) throws, leaves nothing behind in tmp/, and the
 * message counts as not delivered. With a `key` (message id and recipient) a second delivery of the same thing,
 * after a crash between delivering and recording it, finds the first and writes nothing: exactly once; the
 * file found must hold exactly these bytes, or it is a leftover of a failed write and is replaced. With a
 * `returnPath` (the reverse-path; '' for the null sender) this is final delivery: `Return-Path: <reverse-path>`
 * goes on top (RFC 5321 4.4).
 */
export function deliverToMaildir(dir: string, content: Uint8Array, now = Date.now(), key?: string, returnPath?: string, io: MaildirIo = realIo): string {
  makeMaildir(dir);
  const bytes = returnPath !== undefined ? Buffer.concat([Buffer.from(`Return-Path: <${returnPath}>\r\n`, 'utf8'), content]) : content;
  // <seconds>.M<milliseconds><unique>.<host>, unique being K<key> or P<pid>R<random>
  const unique = key ? `K${key.replace(/[^A-Za-z0-9_-]/g, '_')}` : `P${process.pid}R${randomBytes(6).toString('hex')}`;
  if (key) {
    const found = delivered(dir, unique, bytes);
    if (found) return found;
    // A partial file of an earlier attempt that failed (the disk filled up): it goes before the new one is written.
    for (const f of fs.readdirSync(path.join(dir, 'tmp'))) if (f.includes(`${unique}.`)) fs.rmSync(path.join(dir, 'tmp', f), { force: true });
  }
  const name = `${Math.floor(now / 1000)}.M${now % 1000}${unique}.${os.hostname().replace(/[/:.]/g, '_')}`;
  const tmp = path.join(dir, 'tmp', name);
  const fd = fs.openSync(tmp, key ? 'w' : 'wx', 0o600);
  let written = false;
  try {
    writeAll(io, fd, bytes, tmp);
    fs.fsyncSync(fd);
    written = true;
  } finally {
    fs.closeSync(fd);
    if (!written) fs.rmSync(tmp, { force: true }); // never leave a truncated message where a reader or a retry finds it
  }
  const final = path.join(dir, 'new', name);
  fs.renameSync(tmp, final);
  const dfd = fs.openSync(path.join(dir, 'new'), 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
  return final;
}

/** Writes every byte, going on after a partial write; a write that stores nothing is a full disk. */
function writeAll(io: MaildirIo, fd: number, bytes: Uint8Array, what: string): void {
  let at = 0;
  while (at < bytes.length) {
    const n = io.writeSync(fd, bytes, at, bytes.length - at);
    if (!(n > 0)) throw new ShortWriteError(at, bytes.length, what);
    at += n;
  }
}

/**
 * The file an earlier delivery of `unique` left in new/ or cur/, if it holds exactly `bytes` (size, then
 * content). An incomplete one in new/ (no reader has seen it) is removed; one in cur/ is left to its reader.
 */
function delivered(dir: string, unique: string, bytes: Uint8Array): string | undefined {
  for (const sub of ['new', 'cur']) {
    for (const f of fs.readdirSync(path.join(dir, sub))) {
      if (!f.includes(`${unique}.`)) continue;
      const file = path.join(dir, sub, f);
      let complete = false;
      try {
        complete = fs.statSync(file).size === bytes.length && fs.readFileSync(file).equals(bytes);
      } catch {
        continue; // moved by a reader meanwhile
      }
      if (complete) return file;
      if (sub === 'new') fs.rmSync(file, { force: true });
    }
  }
  return undefined;
}
