import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { crc32 } from 'node:zlib';
import {
  decodeHello,
  decodeSession,
  encodeHello,
  encodeSession,
  FrameType,
  isFrameError,
  MAC_BYTES,
  SealingKey,
  NONCE_BYTES,
  peekType,
  PROOF_BYTES,
  RecordKind,
  type HelloFrame,
  type LinkRecord,
  type SessionFrame,
} from '../../src/codec/link-frame.ts';
import { mutate, type Rng } from './rng.ts';
import { fail, hex, type DecoderTarget } from './target.ts';

const KEY = Buffer.from('fuzzing key, 32 bytes long......');
const OTHER_KEY = Buffer.from('another key, 32 bytes long......');
const MAX_DATA = 1024;
const SEALER = new SealingKey(Buffer.alloc(32, 7), Buffer.alloc(8, 1));
const OPENER = new SealingKey(Buffer.alloc(32, 7), Buffer.alloc(8, 1));
const OTHER_OPENER = new SealingKey(Buffer.alloc(32, 8), Buffer.alloc(8, 1));

interface FrameInput {
  /** The frame as it arrives (sealed again with a valid check after mutation, so the parser behind it is reached). */
  readonly frame: Uint8Array;
  /** Sealed with AES-256-GCM (a link that encrypts) rather than MACed. */
  readonly sealed: boolean;
  /** The frame it was made from, when not mutated: decoding must give it back. */
  readonly original: SessionFrame | HelloFrame | null;
}

/** A queue id of ours (20 characters of Crockford base32), which frames carry packed. */
function packable(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 20; i++) s += '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[rng.int(32)];
  return s;
}

function text(rng: Rng, max: number): string {
  const n = rng.size(max);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.chance(0.9) ? String.fromCharCode(0x21 + rng.int(94)) : rng.pick(['é', '€', '𝄞', ' ', '\0']);
  return s;
}

function record(rng: Rng): LinkRecord {
  const big = () => (rng.chance(0.1) ? rng.int(2 ** 31) * 2 ** rng.int(17) : rng.int(100_000));
  switch (rng.pick([RecordKind.OPEN, RecordKind.DATA, RecordKind.CANCEL, RecordKind.RESUME, RecordKind.CANCELLED, RecordKind.REFUSE])) {
    case RecordKind.OPEN:
      return { kind: RecordKind.OPEN, xfer: rng.int(65536), total: big(), id: rng.chance(0.3) ? packable(rng) : text(rng, 60) || 'x', hash: rng.bytes(8), ageMs: big(), deadlineMs: big(), offset: big(), data: rng.bytes(rng.size(400)) };
    case RecordKind.DATA:
      return { kind: RecordKind.DATA, xfer: rng.int(65536), offset: big(), data: rng.bytes(rng.size(MAX_DATA)) };
    case RecordKind.CANCEL:
      return { kind: RecordKind.CANCEL, id: text(rng, 60) || 'y' };
    case RecordKind.RESUME:
      return { kind: RecordKind.RESUME, xfer: rng.int(65536), offset: big() };
    case RecordKind.CANCELLED:
      return { kind: RecordKind.CANCELLED, id: text(rng, 60) || 'z' };
    default:
      return { kind: RecordKind.REFUSE, id: text(rng, 60) || 'r', status: `${rng.pick([4, 5])}.${rng.int(8)}.${rng.int(30)}`, text: text(rng, 60) };
  }
}

function sessionFrame(rng: Rng): SessionFrame {
  switch (rng.int(4)) {
    case 0:
      return { type: FrameType.AUTH, proof: rng.bytes(PROOF_BYTES) };
    case 1:
      return { type: FrameType.CTRL, ack: rng.int(65536), flags: rng.int(4), over: rng.int(256), echo: rng.int(256), bitmap: rng.bytes(rng.size(64)) };
    case 2:
    {
      const ids = Array.from({ length: rng.size(8) }, () => (rng.chance(0.3) ? packable(rng) : text(rng, 40) || 'c'));
      return { type: FrameType.CUSTODY, entries: ids.map((id) => (rng.chance(0.5) ? { slot: rng.int(1 << 20), id } : { slot: rng.int(1 << 20), xfer: rng.int(65536) })) };
    }
    default:
      return { type: FrameType.RECORD, seq: rng.int(65536), record: record(rng) };
  }
}

function helloFrame(rng: Rng): HelloFrame {
  const base = { version: 2, station: text(rng, 40), nonce: rng.bytes(NONCE_BYTES), caps: { maxFrame: rng.int(65536), window: rng.int(65536), dictionaries: Array.from({ length: rng.size(6) }, () => rng.int(256)) } };
  return rng.chance(0.5) ? { type: FrameType.HELLO, ...base } : { type: FrameType.HELLO_REPLY, ...base, proof: rng.bytes(PROOF_BYTES) };
}

/** A mutated frame with its check made valid again: the MAC under KEY, or the hello's CRC-32. */
function reseal(frame: Uint8Array, hello: boolean): Uint8Array {
  const check = hello ? 4 : MAC_BYTES;
  if (frame.length < check + 1) return frame;
  const body = frame.subarray(0, frame.length - check);
  const sum = hello ? Buffer.from(Uint32Array.of(0).buffer).fill(0) : createHmac('sha256', KEY).update(body).digest().subarray(0, MAC_BYTES);
  if (hello) sum.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([body, sum]);
}

/**
 * The link frame decoder: every frame of every type and record kind decodes to itself; mutated frames sealed
 * again with a valid check never throw and, when they decode, encode to a frame that decodes the same; any
 * frame under another key fails its check.
 */
export const frameTarget: DecoderTarget<FrameInput> = {
  name: 'frame',
  description: 'link frames (hello, AUTH, CTRL, RECORD, CUSTODY): round trip, mutations past the check, wrong keys',
  generate(rng: Rng): FrameInput {
    const hello = rng.chance(0.2);
    const f = hello ? helloFrame(rng) : sessionFrame(rng);
    if (!hello && rng.chance(0.3)) {
      // A link that encrypts: the body is mutated in clear and sealed again, so the parser behind the seal is reached.
      if (rng.chance(0.25)) return { frame: encodeSession(f as SessionFrame, SEALER), sealed: true, original: f };
      const body = encodeSession(f as SessionFrame, KEY);
      return { frame: SEALER.seal(mutate(rng, body.subarray(0, body.length - MAC_BYTES))), sealed: true, original: null };
    }
    const bytes = hello ? encodeHello(f as HelloFrame) : encodeSession(f as SessionFrame, KEY);
    if (rng.chance(0.25)) return { frame: bytes, sealed: false, original: f };
    return { frame: reseal(mutate(rng, bytes), rng.chance(0.2) ? !hello : hello), sealed: false, original: null };
  },
  check({ frame, sealed, original }: FrameInput): void {
    const type = peekType(frame);
    const hello = !sealed && (type === FrameType.HELLO || type === FrameType.HELLO_REPLY);
    const key = sealed ? OPENER : KEY;
    const d = hello ? decodeHello(frame) : decodeSession(frame, key, MAX_DATA + 512);
    if (original) {
      if (isFrameError(d)) fail(`a valid frame did not decode: ${d.error} ${d.detail}`);
      if (!isDeepStrictEqual(norm(d), norm(original))) fail(`decoded ${JSON.stringify(norm(d))}, sent ${JSON.stringify(norm(original))}`);
    }
    if (!hello && !isFrameError(decodeSession(frame, sealed ? KEY : OTHER_KEY, MAX_DATA + 512))) fail('a frame verified under a key it was not sealed with');
    if (sealed && !isFrameError(decodeSession(frame, OTHER_OPENER, MAX_DATA + 512))) fail('a sealed frame opened under another key');
    if (isFrameError(d) || isFrameError(type)) return;
    // What decodes is canonical enough to survive another round.
    const again = hello ? decodeHello(encodeHello(d as HelloFrame)) : sealed ? decodeSession(encodeSession(d as SessionFrame, SEALER), OPENER, MAX_DATA + 512) : decodeSession(encodeSession(d as SessionFrame, KEY), KEY, MAX_DATA + 512);
    if (isFrameError(again)) fail(`a decoded frame, encoded again, does not decode: ${again.detail}`);
    if (!isDeepStrictEqual(norm(again), norm(d))) fail('a decoded frame changes when encoded and decoded again');
  },
  show: (i) => `${i.sealed ? 'sealed ' : ''}frame ${hex(i.frame)}${i.original ? `\noriginal ${JSON.stringify(norm(i.original))}` : ''}`,
};

/** Frames compared as plain data (byte arrays as hex). */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}
