import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config.ts';

/** Length of a key `hfmail keygen` makes: 32 random bytes (HMAC-SHA256's block is larger, its output this size). */
export const LINK_KEY_BYTES = 32;
/** Shortest key file a link takes. */
const MIN_KEY_BYTES = 16;

/**
 * The pre-shared keys of a link (links[].key: one file, or two during a key change, the current one first),
 * read from files relative to `base`. A missing, unreadable or short file is a configuration error naming it.
 */
export function readLinkKeys(base: string, key: string | readonly string[], peer: string): Uint8Array[] {
  const files = typeof key === 'string' ? [key] : key;
  return files.map((f, i) => {
    const file = path.resolve(base, f);
    const where = typeof key === 'string' ? 'links[].key' : `links[].key[${i}]`;
    try {
      const k = readFileSync(file);
      if (k.length < MIN_KEY_BYTES) throw new Error(`shorter than ${MIN_KEY_BYTES} bytes (make one with: hfmail keygen --out ${f})`);
      return k;
    } catch (err) {
      throw new ConfigError(`links: ${where} of the link to ${peer}: key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
}

/**
 * Writes a fresh random key to `file`, readable by its owner only (0600), whole or not at all: written to a
 * temporary file beside it, synced, then renamed. An existing file is kept unless `force`.
 */
export function writeLinkKey(file: string, force = false, bytes = randomBytes(LINK_KEY_BYTES)): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    for (let at = 0; at < bytes.length; ) {
      const n = writeSync(fd, bytes, at, bytes.length - at);
      if (n <= 0) throw new Error(`short write to ${tmp}`);
      at += n;
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    if (!force) {
      // Claims the name first (fails if it exists): the key a station uses is never replaced by mistake.
      closeSync(openSync(file, 'wx', 0o600));
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} exists; a link's key is not overwritten (--force to replace it)`);
    throw err;
  }
}

/**
 * Whether a link encrypts its frames: only when the station asks (links[].encrypt) and the profile's licence
 * allows it; asking on a profile that forbids it (amateur radio) is a configuration error, never a silent
 * downgrade to authentication only.
 */
export function linkEncryption(link: { readonly peer: string; readonly encrypt?: boolean | undefined }, profile: { readonly name: string; readonly encryption: 'forbidden' | 'allowed' }): boolean {
  if (!link.encrypt) return false;
  if (profile.encryption !== 'allowed')
    throw new ConfigError(`links: the link to ${link.peer} sets encrypt, but profile ${profile.name} forbids encryption (amateur radio: frames are authenticated, never encrypted); remove encrypt, or use a profile with encryption: allowed`);
  return true;
}
