import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CodecError } from './codec-error.ts';
import { dictionaryFor, isZstdDictionary } from './dictionary.ts';
import { zstdCompress, zstdDecompress } from './zstd.ts';

/** Body codecs, by their number on the wire. */
export const BodyCodec = {
  STORED: 0,
  DEFLATE: 1, // raw deflate, level 9, with the preset dictionary of the bundle's dictionary version
  BROTLI: 2, // quality 11, text mode (Node's brotli takes no custom dictionary)
  ZSTD: 3, // zstd with the bundle's dictionary version (2 and up), and the session's history when it names one
} as const;

export interface CompressedBody {
  readonly codec: number;
  readonly dictionary: number;
  readonly bytes: Uint8Array;
}

/**
 * What zstd is given to compress against: the version's trained dictionary alone, or, with a session history
 * (bytes the peer holds, docs/protocol.md "Session context"), the dictionary's bytes as raw content followed
 * by the history, nearest last. Without its first four bytes (zstd's dictionary magic) the whole is raw content.
 */
export function zstdDictionary(version: number, history?: Uint8Array): Uint8Array | undefined {
  const dict = dictionaryFor(version);
  if (!dict || !isZstdDictionary(version)) return undefined;
  return history && history.length ? Buffer.concat([dict.subarray(4), history]) : dict;
}

/**
 * Tries every codec and keeps the smallest; lossless, so the content is byte-identical after the hop. A zstd
 * dictionary version (2 and up) uses zstd, against `history` when given; older versions deflate and brotli.
 */
export function compressBody(content: Uint8Array, dictionaryVersion: number, history?: Uint8Array): CompressedBody {
  const zdict = zstdDictionary(dictionaryVersion, history);
  if (zdict) {
    const z: CompressedBody = { codec: BodyCodec.ZSTD, dictionary: dictionaryVersion, bytes: zstdCompress(content, zdict) };
    return z.bytes.length < content.length ? z : { codec: BodyCodec.STORED, dictionary: 0, bytes: content };
  }
  const dict = dictionaryFor(dictionaryVersion) ?? new Uint8Array(0);
  const options: CompressedBody[] = [{ codec: BodyCodec.STORED, dictionary: 0, bytes: content }];
  options.push({ codec: BodyCodec.DEFLATE, dictionary: dict.length ? dictionaryVersion : 0, bytes: deflateRawSync(content, { level: 9, ...(dict.length ? { dictionary: dict } : {}) }) });
  options.push({
    codec: BodyCodec.BROTLI,
    dictionary: 0,
    bytes: brotliCompressSync(content, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: content.length },
    }),
  });
  return options.reduce((best, o) => (o.bytes.length < best.bytes.length ? o : best));
}

/** What zlib's synchronous calls return with `info: true` (typed as a plain Buffer in @types/node). */
interface Inflated {
  readonly buffer: Buffer;
  readonly engine: { readonly bytesWritten: number };
}

/**
 * Inflates at most `expected` bytes (the declared length, already checked against the receiver's limit): a
 * decompression bomb stops at the limit instead of filling memory.
 */
export function decompressBody(body: CompressedBody, expected: number, history?: Uint8Array): Uint8Array | CodecError {
  const dict = dictionaryFor(body.dictionary);
  if (dict === undefined) return { error: 'unknown-dictionary', detail: `dictionary version ${body.dictionary}` };
  if (body.codec === BodyCodec.ZSTD) {
    const zdict = zstdDictionary(body.dictionary, history);
    return zdict ? zstdDecompress(body.bytes, zdict, expected) : { error: 'bad-compression', detail: `dictionary version ${body.dictionary} is not a zstd dictionary` };
  }
  let out: Uint8Array;
  try {
    if (body.codec === BodyCodec.STORED) out = body.bytes;
    else if (body.codec === BodyCodec.DEFLATE || body.codec === BodyCodec.BROTLI) {
      // `info` tells how much input the stream used: bytes after its end are refused, so one body has one encoding.
      const limit = { maxOutputLength: Math.max(1, expected), info: true };
      const result = (body.codec === BodyCodec.DEFLATE ? inflateRawSync(body.bytes, { ...limit, ...(dict.length ? { dictionary: dict } : {}) }) : brotliDecompressSync(body.bytes, limit)) as unknown as Inflated;
      if (result.engine.bytesWritten !== body.bytes.length) return { error: 'bad-compression', detail: `${body.bytes.length - result.engine.bytesWritten} bytes after the end of the compressed stream` };
      out = result.buffer;
    } else return { error: 'bad-compression', detail: `unknown body codec ${body.codec}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return { error: 'too-large', detail: `body inflates past its declared ${expected} bytes` };
    return { error: 'bad-compression', detail: (err as Error).message };
  }
  if (out.length !== expected) return { error: 'length-mismatch', detail: `body is ${out.length} bytes, declared ${expected}` };
  return out;
}
