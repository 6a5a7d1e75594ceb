import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter } from './byte-io.ts';

/**
 * Frames of the hfmail link protocol, version 2 (docs/protocol.md). The first byte holds the protocol
 * version in its high nibble and the frame type in its low nibble. Hello frames, sent before keys exist,
 * end in a CRC-32; every other frame ends in a truncated HMAC-SHA256 under the sender's session key, which
 * catches line damage as well as forgery and frames of other sessions.
 */
export const PROTOCOL_VERSION = 3;

export const FrameType = {
  HELLO: 1, // caller's hello: id, capabilities, nonce
  HELLO_REPLY: 2, // answer: id, capabilities, nonce, proof of the key
  AUTH: 3, // caller's proof of the key, first frame of its first session over
  CTRL: 4, // acknowledgement state and turn flags
  RECORD: 5, // a sequenced, acknowledged record (open, data, cancel, resume)
  CUSTODY: 6, // the receiver holds these messages durably; idempotent, so not sequenced
} as const;

export const RecordKind = {
  OPEN: 1, // a transfer starts or resumes: number, total length, message id, bundle hash, and its first segment
  DATA: 2, // a segment of a transfer at an offset
  CANCEL: 4, // the sender wants to withdraw a message (deadline passed): answered by CANCELLED or CUSTODY
  RESUME: 5, // the receiver holds less than the sender assumed: continue from this offset
  CANCELLED: 6, // answer to CANCEL: the receiver does not hold the message and never will
  REFUSE: 7, // the receiver will not take the message: an RFC 3463 status (4.x.x: offer it again later) and why
} as const;

/**
 * Shortest frame on the air, before KISS: most KISS TNCs (Direwolf among them) drop frames under 15 bytes, the
 * size of the smallest AX.25 frame. Shorter frames are padded with zero bytes before their check.
 */
export const MIN_FRAME = 15;

export const CtrlFlag = {
  TURN: 1, // end of this over: the channel is yours
  IDLE: 2, // nothing to send and nothing unacknowledged: no answer needed
} as const;

export const MAC_BYTES = 8;
/** Bundle hash in OPEN: the first bytes of SHA-256, checked by the receiver before custody. */
export const HASH_BYTES = 8;
export const NONCE_BYTES = 16;
export const PROOF_BYTES = 16;
const CRC_BYTES = 4;
const MAX_ID = 255;

export interface Capabilities {
  readonly maxFrame: number;
  readonly window: number;
  readonly dictionaries: readonly number[];
}

export interface HelloFrame {
  readonly type: typeof FrameType.HELLO | typeof FrameType.HELLO_REPLY;
  readonly version: number;
  readonly station: string;
  readonly nonce: Uint8Array;
  readonly caps: Capabilities;
  /** HELLO_REPLY only. */
  readonly proof?: Uint8Array;
}

export type LinkRecord =
  | {
      readonly kind: typeof RecordKind.OPEN;
      readonly xfer: number;
      readonly total: number;
      readonly id: string;
      readonly hash: Uint8Array;
      /** Milliseconds since the bundle was made, as this copy of the OPEN leaves: deadlines inside count from then. */
      readonly ageMs: number;
      /** Milliseconds from this copy's arrival until the deadline after which the sender withdraws it; 0: none. */
      readonly deadlineMs: number;
      readonly offset: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: typeof RecordKind.DATA; readonly xfer: number; readonly offset: number; readonly data: Uint8Array }
  | { readonly kind: typeof RecordKind.CANCEL; readonly id: string }
  | { readonly kind: typeof RecordKind.RESUME; readonly xfer: number; readonly offset: number }
  | { readonly kind: typeof RecordKind.CANCELLED; readonly id: string }
  | { readonly kind: typeof RecordKind.REFUSE; readonly id: string; readonly status: string; readonly text: string };

export type SessionFrame =
  | { readonly type: typeof FrameType.AUTH; readonly proof: Uint8Array }
  | {
      readonly type: typeof FrameType.CTRL;
      /** Next sequence number expected, and a bitmap of the records held after it. */
      readonly ack: number;
      readonly bitmap: Uint8Array;
      readonly flags: number;
      /** This side's over number (mod 256), so the peer can say which over it answers. */
      readonly over: number;
      /** The last of the peer's overs seen to its end: records of that over and earlier are judged. */
      readonly echo: number;
    }
  | { readonly type: typeof FrameType.RECORD; readonly seq: number; readonly record: LinkRecord }
  | { readonly type: typeof FrameType.CUSTODY; readonly entries: readonly CustodyEntry[] };

/**
 * One message the receiver holds: named by its id, or, for a transfer of this session, by the transfer number
 * its OPEN gave (a few bytes instead of the id); with its slot in the session's history (0: none).
 */
export type CustodyEntry = { readonly slot: number } & ({ readonly id: string } | { readonly xfer: number });

export type FrameError = { readonly error: 'version' | 'type' | 'check' | 'malformed'; readonly detail: string };

export function isFrameError(v: unknown): v is FrameError {
  return typeof v === 'object' && v !== null && 'error' in v;
}

const head = (type: number) => (PROTOCOL_VERSION << 4) | type;

export function encodeHello(f: HelloFrame): Uint8Array {
  const w = new ByteWriter().u8(head(f.type)).u8(f.version).text(f.station).bytes(f.nonce);
  w.u16(f.caps.maxFrame).u16(f.caps.window).u8(f.caps.dictionaries.length);
  for (const d of f.caps.dictionaries) w.u8(d);
  if (f.type === FrameType.HELLO_REPLY) w.bytes(f.proof ?? new Uint8Array(PROOF_BYTES));
  const body = pad(w.done(), CRC_BYTES);
  return concat(body, u32(crc32(body)));
}

/**
 * The key a session frame is checked (or sealed) with: the direction's MAC key, or, on a link that encrypts, its
 * SealingKey (AES-256-GCM).
 */
export type FrameKey = Uint8Array | SealingKey;

/** What sealing adds instead of the MAC: a 4-byte frame counter (the nonce's variable part) and an 8-byte GCM tag. */
export const SEAL_OVERHEAD = 4 + MAC_BYTES;

/**
 * Encryption of session frames for links whose licence allows it (never amateur radio): AES-256-GCM under a key
 * of the session's direction, the nonce being an 8-byte salt of that direction and a counter of the frames sealed
 * (sent in clear after the type byte, and authenticated with it), the tag cut to 8 bytes like the MAC it replaces.
 * Session keys are fresh for every session, so a counter never repeats under a key.
 */
export class SealingKey {
  private counter = 0;

  constructor(
    private readonly key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {
    if (key.length !== 32 || salt.length !== 8) throw new RangeError('SealingKey: a 32-byte key and an 8-byte salt');
  }

  /** `body` (type byte, then fields) as a sealed frame: type, counter, ciphertext, tag. */
  seal(body: Uint8Array): Uint8Array {
    if (this.counter > 0xffffffff) throw new RangeError('SealingKey: 2^32 frames sealed under one key');
    const ctr = u32(this.counter++);
    const c = createCipheriv('aes-256-gcm', this.key, concat(this.salt, ctr), { authTagLength: MAC_BYTES });
    c.setAAD(concat(body.subarray(0, 1), ctr));
    const sealed = Buffer.concat([c.update(body.subarray(1)), c.final()]);
    return Buffer.concat([body.subarray(0, 1), ctr, sealed, c.getAuthTag()]);
  }

  /** The body of a sealed frame, or null when it is not one of this key's (a wrong key, damage, forgery). */
  open(frame: Uint8Array): Uint8Array | null {
    if (frame.length < 1 + SEAL_OVERHEAD) return null;
    const ctr = frame.subarray(1, 5);
    const d = createDecipheriv('aes-256-gcm', this.key, concat(this.salt, ctr), { authTagLength: MAC_BYTES });
    d.setAAD(concat(frame.subarray(0, 1), ctr));
    d.setAuthTag(frame.subarray(frame.length - MAC_BYTES));
    try {
      return Buffer.concat([frame.subarray(0, 1), d.update(frame.subarray(5, frame.length - MAC_BYTES)), d.final()]);
    } catch {
      return null;
    }
  }
}

export function encodeSession(f: SessionFrame, key: FrameKey): Uint8Array {
  const w = new ByteWriter().u8(head(f.type));
  if (f.type === FrameType.AUTH) w.bytes(f.proof);
  else if (f.type === FrameType.CTRL) w.u16(f.ack).u8(f.flags).u8(f.over).u8(f.echo).blob(f.bitmap);
  else if (f.type === FrameType.CUSTODY) {
    w.u8(f.entries.length);
    for (const e of f.entries) {
      if ('xfer' in e) w.varint(e.slot * 2 + 1).varint(e.xfer);
      else w.varint(e.slot * 2).messageId(e.id);
    }
  } else {
    w.u16(f.seq).u8(f.record.kind);
    const r = f.record;
    if (r.kind === RecordKind.OPEN) w.u16(r.xfer).varint(r.total).messageId(r.id).bytes(r.hash).varint(r.ageMs).varint(r.deadlineMs).varint(r.offset).bytes(r.data);
    else if (r.kind === RecordKind.DATA) w.u16(r.xfer).varint(r.offset).bytes(r.data);
    else if (r.kind === RecordKind.RESUME) w.u16(r.xfer).varint(r.offset);
    else if (r.kind === RecordKind.REFUSE) w.messageId(r.id).text(r.status).text(r.text);
    else w.messageId(r.id);
  }
  if (key instanceof SealingKey) return key.seal(pad(w.done(), SEAL_OVERHEAD));
  const body = pad(w.done(), MAC_BYTES);
  return concat(body, mac(key, body));
}

/** The frame type of an undecoded frame, to choose between hello and session decoding. */
export function peekType(frame: Uint8Array): number | FrameError {
  if (frame.length === 0) return { error: 'malformed', detail: 'empty frame' };
  if (frame[0]! >> 4 !== PROTOCOL_VERSION) return { error: 'version', detail: `protocol version ${frame[0]! >> 4}` };
  return frame[0]! & 0x0f;
}

export function decodeHello(frame: Uint8Array): HelloFrame | FrameError {
  if (frame.length < 1 + CRC_BYTES) return { error: 'malformed', detail: 'short hello' };
  const body = frame.subarray(0, frame.length - CRC_BYTES);
  const crc = new ByteReader(frame.subarray(frame.length - CRC_BYTES));
  const sent = ((crc.u16()! << 16) | crc.u16()!) >>> 0;
  if (crc32(body) !== sent) return { error: 'check', detail: 'hello CRC mismatch' };
  const r = new ByteReader(body);
  const type = r.u8()! & 0x0f;
  if (type !== FrameType.HELLO && type !== FrameType.HELLO_REPLY) return { error: 'type', detail: `not a hello: ${type}` };
  const version = r.u8();
  const station = r.text(MAX_ID);
  const nonce = r.bytes(NONCE_BYTES);
  const maxFrame = r.u16();
  const window = r.u16();
  const nd = r.u8();
  if (version === null || station === null || nonce === null || maxFrame === null || window === null || nd === null)
    return { error: 'malformed', detail: 'truncated hello' };
  const dicts = r.bytes(nd);
  if (dicts === null) return { error: 'malformed', detail: 'truncated hello' };
  const caps = { maxFrame, window, dictionaries: [...dicts] };
  const base = { type, version, station, nonce: Uint8Array.from(nonce), caps } as const;
  if (type === FrameType.HELLO) return ended(r, frame) ? base : { error: 'malformed', detail: 'trailing bytes' };
  const proof = r.bytes(PROOF_BYTES);
  if (proof === null || !ended(r, frame)) return { error: 'malformed', detail: 'bad hello reply proof' };
  return { ...base, proof: Uint8Array.from(proof) };
}

/** Verifies the MAC (or opens the seal) first: a frame that fails it is never parsed further. */
export function decodeSession(frame: Uint8Array, key: FrameKey, maxData: number): SessionFrame | FrameError {
  let body: Uint8Array;
  if (key instanceof SealingKey) {
    const opened = key.open(frame);
    if (!opened) return frame.length < 1 + SEAL_OVERHEAD ? { error: 'malformed', detail: 'short frame' } : { error: 'check', detail: 'MAC mismatch' };
    body = opened;
  } else {
    if (frame.length < 1 + MAC_BYTES) return { error: 'malformed', detail: 'short frame' };
    body = frame.subarray(0, frame.length - MAC_BYTES);
    if (!equal(mac(key, body), frame.subarray(frame.length - MAC_BYTES))) return { error: 'check', detail: 'MAC mismatch' };
  }
  const r = new ByteReader(body);
  const type = r.u8()! & 0x0f;
  const bad = (detail: string): FrameError => ({ error: 'malformed', detail });
  if (type === FrameType.AUTH) {
    const proof = r.bytes(PROOF_BYTES);
    return proof && ended(r, frame) ? { type, proof: Uint8Array.from(proof) } : bad('auth');
  }
  if (type === FrameType.CTRL) {
    const ack = r.u16();
    const flags = r.u8();
    const over = r.u8();
    const echo = r.u8();
    const bitmap = r.blob(64);
    if (ack === null || flags === null || over === null || echo === null || !bitmap || !ended(r, frame)) return bad('ctrl');
    return { type, ack, flags, over, echo, bitmap: Uint8Array.from(bitmap) };
  }
  if (type === FrameType.CUSTODY) {
    const n = r.u8();
    const entries: CustodyEntry[] = [];
    for (let i = 0; n !== null && i < n; i++) {
      const tag = r.varint();
      if (tag === null) return bad('custody');
      const slot = Math.floor(tag / 2);
      if (tag % 2 === 1) {
        const xfer = r.varint();
        if (xfer === null || xfer > 0xffff) return bad('custody');
        entries.push({ slot, xfer });
      } else {
        const id = r.messageId(MAX_ID);
        if (id === null) return bad('custody');
        entries.push({ slot, id });
      }
    }
    return n !== null && ended(r, frame) ? { type, entries } : bad('custody');
  }
  if (type !== FrameType.RECORD) return { error: 'type', detail: `frame type ${type}` };
  const seq = r.u16();
  const kind = r.u8();
  if (seq === null || kind === null) return bad('record header');
  if (kind === RecordKind.OPEN) {
    const xfer = r.u16();
    const total = r.varint();
    const id = r.messageId(MAX_ID);
    const hash = r.bytes(HASH_BYTES);
    const ageMs = r.varint();
    const deadlineMs = r.varint();
    const offset = r.varint();
    if (xfer === null || total === null || id === null || !hash || ageMs === null || deadlineMs === null || offset === null || r.remaining > maxData) return bad('open');
    return { type, seq, record: { kind, xfer, total, id, hash: Uint8Array.from(hash), ageMs, deadlineMs, offset, data: Uint8Array.from(r.rest()) } };
  }
  if (kind === RecordKind.DATA) {
    const xfer = r.u16();
    const offset = r.varint();
    if (xfer === null || offset === null || r.remaining > maxData) return bad('data');
    return { type, seq, record: { kind, xfer, offset, data: Uint8Array.from(r.rest()) } };
  }
  if (kind === RecordKind.RESUME) {
    const xfer = r.u16();
    const offset = r.varint();
    return xfer !== null && offset !== null && ended(r, frame) ? { type, seq, record: { kind, xfer, offset } } : bad('resume');
  }
  if (kind === RecordKind.CANCEL || kind === RecordKind.CANCELLED) {
    const id = r.messageId(MAX_ID);
    return id !== null && id.length > 0 && ended(r, frame) ? { type, seq, record: { kind, id } } : bad('cancel');
  }
  if (kind === RecordKind.REFUSE) {
    const id = r.messageId(MAX_ID);
    const status = r.text(16);
    const text = r.text(MAX_ID);
    if (id === null || status === null || text === null || !ended(r, frame) || !/^[45]\.\d{1,3}\.\d{1,3}$/.test(status)) return bad('refuse');
    return { type, seq, record: { kind, id, status, text } };
  }
  return { error: 'type', detail: `record kind ${kind}` };
}

/** Bytes a RECORD frame adds around a DATA segment, before KISS stuffing (type, seq, kind, xfer, offset, MAC). */
export const DATA_OVERHEAD = 1 + 2 + 1 + 2 + 4 + MAC_BYTES;

/** Zero bytes after a body too short for a KISS TNC, so that body and check make MIN_FRAME. */
function pad(body: Uint8Array, check: number): Uint8Array {
  const short = MIN_FRAME - check - body.length;
  return short > 0 ? concat(body, new Uint8Array(short)) : body;
}

/** The frame's fields are all read: nothing is left, or only the zero padding of a minimum-length frame. */
function ended(r: ByteReader, frame: Uint8Array): boolean {
  if (r.remaining === 0) return true;
  return frame.length === MIN_FRAME && r.rest().every((b) => b === 0);
}

function mac(key: Uint8Array, body: Uint8Array): Uint8Array {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES);
}

function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
