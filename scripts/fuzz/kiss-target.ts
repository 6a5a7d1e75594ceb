import { encodeKiss, KISS, KissDecoder } from '../../src/codec/kiss.ts';
import { mutate, type Rng } from './rng.ts';
import { fail, hex, sameBytes, type DecoderTarget } from './target.ts';

const MAX_FRAME = 600;
const SPECIAL = [KISS.FEND, KISS.FESC, KISS.TFEND, KISS.TFESC];

interface KissInput {
  /** The byte stream, and where it is cut into chunks (a serial port hands over arbitrary pieces). */
  readonly stream: Uint8Array;
  readonly cuts: readonly number[];
  /** The payloads a valid stream carries, in order; null for garbage or a mutated stream. */
  readonly frames: readonly Uint8Array[] | null;
}

/**
 * The KISS decoder: valid streams (frames of any bytes, FEND and FESC included, after line noise) come out exactly,
 * for any chunking; garbage and mutated streams never throw and never yield a frame over the size limit.
 */
export const kissTarget: DecoderTarget<KissInput> = {
  name: 'kiss',
  description: 'KISS framing: exact frames from valid streams in any chunking, bounded frames from garbage',
  generate(rng: Rng): KissInput {
    const mode = rng.int(3);
    let frames: Uint8Array[] | null = [];
    const parts: Uint8Array[] = [];
    // Line noise before the first FEND is skipped (it has no FEND in it).
    if (rng.chance(0.5)) parts.push(rng.bytes(rng.size(40)).map((b) => (b === KISS.FEND ? 0 : b)));
    for (let i = rng.int(6); i >= 0; i--) {
      const len = rng.chance(0.05) ? MAX_FRAME + 1 + rng.int(40) : 1 + rng.size(MAX_FRAME - 1);
      const p = rng.bytes(len);
      for (let k = rng.size(len); k > 0; k--) p[rng.int(len)] = rng.pick(SPECIAL);
      if (len <= MAX_FRAME) frames.push(p);
      parts.push(encodeKiss(p, 0, 0));
    }
    let stream: Uint8Array = Buffer.concat(parts);
    if (mode === 1) {
      stream = mutate(rng, stream);
      frames = null;
    } else if (mode === 2) {
      stream = rng.bytes(rng.size(2048));
      for (let k = rng.size(stream.length); k > 0; k--) stream[rng.int(stream.length)] = rng.pick(SPECIAL);
      frames = null;
    }
    const cuts: number[] = [];
    for (let at = 0; at < stream.length; ) {
      at += 1 + rng.size(300);
      cuts.push(Math.min(at, stream.length));
    }
    return { stream, cuts, frames };
  },
  check({ stream, cuts, frames }: KissInput): void {
    const d = new KissDecoder(MAX_FRAME);
    const out: Uint8Array[] = [];
    let from = 0;
    for (const c of cuts) {
      for (const f of d.push(stream.subarray(from, c))) {
        if (f.payload.length > MAX_FRAME) fail(`a frame of ${f.payload.length} bytes passed the limit of ${MAX_FRAME}`);
        if (f.command === 0 && f.port === 0) out.push(f.payload);
      }
      from = c;
    }
    if (frames === null) return;
    if (out.length !== frames.length) fail(`${out.length} frames decoded, ${frames.length} sent`);
    frames.forEach((f, i) => sameBytes(f, out[i]!) || fail(`frame ${i} differs`));
  },
  show: (i) => `stream ${hex(i.stream)}\ncuts ${i.cuts.join(',')}`,
};
