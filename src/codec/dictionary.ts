import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/index.ts';

/**
 * Preset dictionaries for deflate, by version. Both ends must hold the same bytes for a version; the hello
 * advertises the versions a station has, and the highest common one is used (0 = none). The file is built by
 * scripts/build-dictionary.ts (docs/dictionary.md) and read once, as a static asset.
 */
const DICTIONARIES: Record<number, { file: string; name: string }> = {
  1: { file: 'src/codec/dictionaries/mail-v1.bin', name: 'mail-v1 (trained mail headers)' },
};
const cache = new Map<number, Uint8Array>();

export const CURRENT_DICTIONARY_VERSION = 1;
export const SUPPORTED_DICTIONARY_VERSIONS: readonly number[] = [0, 1];

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
