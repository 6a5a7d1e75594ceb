import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/index.ts';

/**
 * Preset dictionaries, by version: deflate's (1) and zstd's (2). Both ends must hold the same bytes for a version; the hello
 * advertises the versions a station has, and the highest common one is used (0 = none). The file is built by
 * scripts/build-dictionary.ts (docs/dictionary.md) and read once, as a static asset.
 */
const DICTIONARIES: Record<number, { file: string; name: string; zstd?: true }> = {
  1: { file: 'src/codec/dictionaries/mail-v1.bin', name: 'mail-v1 (trained mail headers)' },
  // zstd's trainer on the project's corpus with CRLF line ends (scripts/build-dictionary.ts --zstd); bundles
  // made with it are zstd, and may name a session history (docs/protocol.md).
  2: { file: 'src/codec/dictionaries/mail-v2.zdict', name: 'mail-v2 (zstd, trained on mail)', zstd: true },
};
const cache = new Map<number, Uint8Array>();

export const CURRENT_DICTIONARY_VERSION = 2;
export const SUPPORTED_DICTIONARY_VERSIONS: readonly number[] = [0, 1, 2];

/** Whether a version is a zstd dictionary (its bundles use zstd and the session history). */
export function isZstdDictionary(version: number): boolean {
  return DICTIONARIES[version]?.zstd === true;
}

export function dictionaryFor(version: number): Uint8Array | undefined {
  if (version === 0) return new Uint8Array(0);
  const file = DICTIONARIES[version]?.file;
  if (!file) return undefined;
  let dict = cache.get(version);
  if (!dict) {
    dict = readFileSync(join(packageRoot(), file));
    cache.set(version, dict);
  }
  return dict;
}

/** A dictionary version's name, for people (the wire carries only the number). */
export function dictionaryName(version: number): string {
  return version === 0 ? 'none' : (DICTIONARIES[version]?.name ?? `v${version}`);
}
