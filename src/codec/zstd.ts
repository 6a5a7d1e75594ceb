import { createRequire } from 'node:module';
import type { CodecError } from './codec-error.ts';

// zstd-napi is a native addon (CommonJS); its low-level binding gives dictionaries of raw content, which the
// session context needs (docs/protocol.md, "Session context").
type Binding = typeof import('zstd-napi/binding.js');
const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as Binding;

/** The frame carries no checksum, size or dictionary id: the bundle holds the lengths and a hash of its own. */
const LEAN = [
  [zstd.CParameter.checksumFlag, 0],
  [zstd.CParameter.contentSizeFlag, 0],
  [zstd.CParameter.dictIDFlag, 0],
] as const;

let cctx: InstanceType<Binding['CCtx']> | undefined;
let dctx: InstanceType<Binding['DCtx']> | undefined;

/**
 * One zstd frame of `data`, compressed against `dictionary` (a zstd dictionary, or raw content: bytes the
 * decoder will hold too). Level 19 up to 256 KB, lower above so a large message stays within ~100 ms.
 */
export function zstdCompress(data: Uint8Array, dictionary: Uint8Array): Uint8Array {
  cctx ??= new zstd.CCtx();
  cctx.reset(zstd.ResetDirective.sessionAndParameters);
  cctx.setParameter(zstd.CParameter.compressionLevel, data.length <= 256 * 1024 ? 19 : data.length <= 2 * 1024 * 1024 ? 12 : 6);
  for (const [p, v] of LEAN) cctx.setParameter(p, v);
  cctx.loadDictionary(dictionary);
  const out = Buffer.allocUnsafe(zstd.compressBound(data.length));
  const n = cctx.compress2(out, data);
  return Uint8Array.prototype.slice.call(out, 0, n);
}

/**
 * Inflates exactly `expected` bytes (the declared length, checked against the receiver's limit before): zstd
 * writes into a buffer of that size and fails rather than grow it, so a bomb costs nothing. One frame only.
 */
export function zstdDecompress(bytes: Uint8Array, dictionary: Uint8Array, expected: number): Uint8Array | CodecError {
  try {
    if (zstd.findFrameCompressedSize(bytes) !== bytes.length) return { error: 'bad-compression', detail: 'bytes after the end of the zstd frame' };
    dctx ??= new zstd.DCtx();
    dctx.reset(zstd.ResetDirective.sessionAndParameters);
    dctx.loadDictionary(dictionary);
    const out = Buffer.alloc(Math.max(1, expected));
    const n = dctx.decompress(out, bytes);
    if (n !== expected) return { error: 'length-mismatch', detail: `body is ${n} bytes, declared ${expected}` };
    return out.subarray(0, n);
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    if (/too small|dstSize/i.test(msg)) return { error: 'too-large', detail: `body inflates past its declared ${expected} bytes` };
    return { error: 'bad-compression', detail: `zstd: ${msg}` };
  }
}
