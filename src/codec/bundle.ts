import { createHash } from 'node:crypto';
import { Decoder, Encoder } from 'cbor-x';
import { DEFAULT_MAX_MESSAGE_BYTES, type Deadline, type DeadlineMode, type MailParams, type Notify, type NotifyCondition, type Priority, type PrioritySource, type QueuedMessage, type Recipient, type Submitter, type TypedAddress } from '../core/index.ts';
import { BodyCodec, compressBody, decompressBody } from './body-compression.ts';
import type { CodecError } from './codec-error.ts';
import { isZstdDictionary } from './dictionary.ts';

/**
 * One message as it crosses the link: the whole envelope, absent parameters kept absent, deadlines as seconds
 * remaining at encoding time, and the content compressed losslessly. CBOR positional arrays with no state
 * shared between bundles, so each one decodes alone (docs/protocol.md, "Bundles").
 */
export interface Bundle {
  readonly id: string;
  readonly priority: Priority;
  readonly by?: RemainingDeadline;
  readonly aby?: RemainingDeadline;
  readonly sender: string;
  readonly params: Omit<MailParams, 'by' | 'aby'>;
  readonly recipients: readonly BundleRecipient[];
  readonly receivedAt: number;
  readonly submitter?: Submitter;
  /** The sending gateway's own Received line, taken off `content` and made again by the receiver (format 4). */
  readonly trace?: BundleTrace;
  readonly content: Uint8Array;
}

/**
 * The fields of the Received line a gateway put on top of the message when it accepted it, which the receiving
 * gateway writes again byte for byte (docs/protocol.md, "Bundles"); its id is the bundle's.
 */
export interface BundleTrace {
  readonly by: string;
  readonly protocol: string;
  readonly helo: string;
  readonly clientAddress: string;
  readonly clientHostname?: string;
  /** The recipient its `for` clause names, if it has one. */
  readonly forRecipient?: string;
  readonly priority: number;
  /** ms since the epoch, whole seconds. */
  readonly date: number;
}

export interface RemainingDeadline {
  readonly remainingSeconds: number;
  readonly mode: DeadlineMode;
  readonly trace: boolean;
  readonly requestedSeconds: number;
}

export type BundleRecipient = Pick<Recipient, 'address' | 'notify' | 'orcpt' | 'arcpt'>;

export interface DecodeLimits {
  readonly maxContent: number;
  readonly maxRecipients: number;
  /** Dictionary versions this end holds. */
  readonly dictionaries: readonly number[];
}

/** The station's default largest message (the gateway passes its configured one); the envelope is bounded apart. */
export const DEFAULT_LIMITS: DecodeLimits = { maxContent: DEFAULT_MAX_MESSAGE_BYTES, maxRecipients: 1000, dictionaries: [0, 1, 2] };

/**
 * The session history a bundle is compressed against (docs/protocol.md, "Session context"): bundles the peer
 * took into custody in this session, by their custody slot. `count` names slots 1..count, less `excluded`;
 * `history` is the last CONTEXT_BYTES of their streams in slot order, which the receiver rebuilds the same way.
 */
export interface BundleContext {
  readonly count: number;
  readonly excluded: readonly number[];
  readonly history: Uint8Array;
}

/** How much of the session's history a bundle may be compressed against: the tail of this many bytes. */
export const CONTEXT_BYTES = 128 * 1024;

/** Bundles made with a deflate dictionary (version 0 or 1). */
const FORMAT = 3;
/** Bundles made with a zstd dictionary (version 2 and up): a flat header, a 4-byte check, the session context. */
const FORMAT_ZSTD = 4;
const CHECK_BYTES = 4;
const MAX_ENVELOPE = 64 * 1024;
const SOURCES: readonly PrioritySource[] = ['mt-priority', 'draft-priority', 'header', 'policy'];
const NOTIFY_BITS: Record<NotifyCondition, number> = { SUCCESS: 1, FAILURE: 2, DELAY: 4 };
const RETS = ['FULL', 'HDRS'] as const;
const BODIES = ['7BIT', '8BITMIME'] as const;
const MAX_TEXT = 1024;

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function bundleFromMessage(msg: QueuedMessage, now: number): Bundle {
  const { by, aby, ...params } = msg.params;
  const remaining = (d: NonNullable<MailParams['by']>): RemainingDeadline => ({ remainingSeconds: Math.floor((d.at - now) / 1000), mode: d.mode, trace: d.trace, requestedSeconds: d.requestedSeconds });
  return {
    id: msg.id,
    priority: msg.priority,
    ...(by ? { by: remaining(by) } : {}),
    ...(aby ? { aby: remaining(aby) } : {}),
    sender: msg.sender,
    params,
    recipients: msg.recipients.map((r) => ({ address: r.address, notify: r.notify, ...(r.orcpt ? { orcpt: r.orcpt } : {}), ...(r.arcpt ? { arcpt: r.arcpt } : {}) })),
    receivedAt: msg.receivedAt,
    submitter: msg.submitter,
    content: msg.content,
  };
}

/**
 * The receiver's half of `bundleFromMessage`: the parameters with BY and ABY anchored again at `anchor` (ms, the
 * moment the transfer began), `remainingSeconds` later. Rounding is down at the sender, so a deadline never grows.
 */
export function mailParamsFromBundle(b: Bundle, anchor: number): MailParams {
  const at = (d: RemainingDeadline): Deadline => ({ at: anchor + d.remainingSeconds * 1000, mode: d.mode, trace: d.trace, requestedSeconds: d.requestedSeconds });
  return { ...b.params, ...(b.by ? { by: at(b.by) } : {}), ...(b.aby ? { aby: at(b.aby) } : {}) };
}

/**
 * The first 8 bytes of SHA-256 of the content, so the receiver can verify what it inflated (a dictionary that
 * differs under the same version would otherwise go unnoticed). The link already checks the bundle's own hash.
 */
export function contentHash(content: Uint8Array): Uint8Array {
  return createHash('sha256').update(content).digest().subarray(0, 8);
}

/**
 * The bundle: `[3, [codec, dictionary, contentLength, envelopeLength, hash], compressed]` with a deflate
 * dictionary, `[4, codec, dictionary, contentLength, envelopeLength, context, check, compressed]` with a zstd
 * one, where the compressed stream is the content followed by the envelope (id first) as CBOR, and `context` is
 * 0 (none), the slot count, or `[count, excluded...]`. The envelope comes after the content so that the
 * compressor finds its addresses in the header fields it has just seen.
 */
export function encodeBundle(b: Bundle, dictionaryVersion: number, context?: BundleContext): Uint8Array {
  const deadline = (d?: RemainingDeadline) => (d ? [d.remainingSeconds, d.mode === 'R' ? 1 : 0, d.trace ? 1 : 0, d.requestedSeconds] : null);
  const typed = (t?: TypedAddress) => (t ? [t.type, t.address] : null);
  const p = b.params;
  const zstd = isZstdDictionary(dictionaryVersion);
  if (b.trace && !zstd) throw new RangeError('a bundle without its Received line needs a zstd dictionary (format 4)');
  const t = b.trace;
  const fields: unknown[] = [
    // Format 4 leaves the id to the transfer's OPEN, which names it already.
    zstd ? null : b.id,
    [b.priority.value, SOURCES.indexOf(b.priority.source), b.priority.requested ?? null],
    deadline(b.by),
    deadline(b.aby),
    b.sender,
    [p.envid ?? null, p.ret ? RETS.indexOf(p.ret) : null, p.body ? BODIES.indexOf(p.body) : null, p.smtputf8 ? 1 : 0, p.size ?? null],
    // An ORCPT that repeats the recipient's own address (the usual case) travels as its type alone.
    b.recipients.map((r) => [r.address, notifyCode(r.notify), r.orcpt && r.orcpt.address === r.address ? [r.orcpt.type] : typed(r.orcpt), typed(r.arcpt)]),
    b.receivedAt,
    b.submitter ? [b.submitter.clientAddress, b.submitter.clientHostname, b.submitter.helo, b.submitter.user ?? null, b.submitter.trusted ? 1 : 0] : null,
  ];
  if (zstd) fields.push(t ? [t.by, t.protocol, t.helo, t.clientAddress, t.clientHostname ?? null, t.forRecipient ?? null, t.priority, Math.floor(t.date / 1000) - Math.floor(b.receivedAt / 1000)] : null);
  const envelope = encoder.encode(fields);
  const stream = Buffer.concat([b.content, envelope]);
  if (zstd) {
    const ctx = context && context.count > 0 && context.history.length > 0 ? context : undefined;
    const body = compressBody(stream, dictionaryVersion, ctx?.history);
    const named = !ctx || body.codec !== BodyCodec.ZSTD ? 0 : ctx.excluded.length ? [ctx.count, ...ctx.excluded] : ctx.count;
    return encoder.encode([FORMAT_ZSTD, body.codec, body.dictionary || dictionaryVersion, b.content.length, envelope.length, named, contentHash(stream).subarray(0, CHECK_BYTES), body.bytes]);
  }
  const body = compressBody(stream, dictionaryVersion);
  return encoder.encode([FORMAT, [body.codec, body.dictionary, b.content.length, envelope.length, contentHash(stream)], body.bytes]);
}

/** A bundle's outer layer: how its stream was compressed, and against which session history. */
interface BundleHeader {
  readonly format: number;
  readonly codec: number;
  readonly dictionary: number;
  readonly contentLength: number;
  readonly envelopeLength: number;
  readonly context: { readonly count: number; readonly excluded: readonly number[] };
  readonly hash: Uint8Array;
  readonly compressed: Uint8Array;
}

function readHeader(bytes: Uint8Array): BundleHeader | CodecError {
  const outer = cbor(bytes);
  if ('error' in outer) return outer;
  const bad = (detail: string): CodecError => ({ error: 'schema', detail });
  const v = outer.value;
  if (!Array.isArray(v)) return bad('not a bundle');
  const nat = (x: unknown): x is number => isInt(x) && x >= 0;
  if (v[0] === FORMAT_ZSTD) {
    if (v.length !== 8) return bad('not a bundle');
    const [, codec, dictionary, contentLength, envelopeLength, ctx, hash, compressed] = v as unknown[];
    if (!nat(codec) || !nat(dictionary) || !nat(contentLength) || !nat(envelopeLength) || !(hash instanceof Uint8Array) || hash.length !== CHECK_BYTES) return bad('body header');
    if (!(compressed instanceof Uint8Array)) return bad('body');
    const list = Array.isArray(ctx) ? (ctx as unknown[]) : [ctx];
    if (list.length === 0 || list.length > 1 + MAX_EXCLUDED_SLOTS || !list.every(nat) || (list.length > 1 && list[0] === 0)) return bad('context');
    const [count, ...excluded] = list as number[];
    return { format: FORMAT_ZSTD, codec, dictionary, contentLength, envelopeLength, context: { count: count!, excluded }, hash, compressed };
  }
  if (v.length !== 3) return bad('not a bundle');
  const [format, info, compressed] = v as unknown[];
  if (format !== FORMAT) return bad(`bundle format ${String(format)}`);
  if (!Array.isArray(info) || info.length !== 5 || !info.slice(0, 4).every(nat) || !(info[4] instanceof Uint8Array) || info[4].length !== 8) return bad('body header');
  if (!(compressed instanceof Uint8Array)) return bad('body');
  const [codec, dictionary, contentLength, envelopeLength, hash] = info as [number, number, number, number, Uint8Array];
  return { format: FORMAT, codec, dictionary, contentLength, envelopeLength, context: { count: 0, excluded: [] }, hash, compressed };
}

/** Most slots a bundle may leave out of its context. */
export const MAX_EXCLUDED_SLOTS = 64;

/**
 * The session history a bundle was compressed against (count 0: none), read from its header without inflating
 * it: the link resolves it before the bundle is decoded. Undefined for bytes that are not a bundle.
 */
export function bundleContext(bytes: Uint8Array): { readonly count: number; readonly excluded: readonly number[] } | undefined {
  const h = readHeader(bytes);
  return 'error' in h ? undefined : h.context;
}

/**
 * The stream a bundle carries (content, then envelope), inflated against `history`: what both stations add to
 * the session's history once the receiver holds the message. Checked against the bundle's hash.
 */
export function bundleStream(bytes: Uint8Array, history?: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Uint8Array | CodecError {
  const r = inflate(bytes, history, limits);
  return 'error' in r ? r : r.stream;
}

function inflate(bytes: Uint8Array, history: Uint8Array | undefined, limits: DecodeLimits): { header: BundleHeader; stream: Uint8Array } | CodecError {
  if (bytes.length > limits.maxContent + MAX_ENVELOPE) return { error: 'too-large', detail: `bundle of ${bytes.length} bytes` };
  const h = readHeader(bytes);
  if ('error' in h) return h;
  // Declared sizes are checked before anything is inflated.
  if (h.contentLength > limits.maxContent) return { error: 'too-large', detail: `content of ${h.contentLength} bytes declared; the limit is ${limits.maxContent}` };
  if (h.envelopeLength > MAX_ENVELOPE) return { error: 'too-large', detail: `envelope of ${h.envelopeLength} bytes declared` };
  if (!limits.dictionaries.includes(h.dictionary)) return { error: 'unknown-dictionary', detail: `dictionary version ${h.dictionary}` };
  if (h.context.count > 0 && !history) return { error: 'no-context', detail: `compressed against session slots up to ${h.context.count}, which this station does not hold` };
  const stream = decompressBody({ codec: h.codec, dictionary: h.dictionary, bytes: h.compressed }, h.contentLength + h.envelopeLength, h.context.count > 0 ? history : undefined);
  if (!(stream instanceof Uint8Array)) return stream;
  if (!Buffer.from(contentHash(stream).subarray(0, h.hash.length)).equals(Buffer.from(h.hash))) return { error: 'hash-mismatch', detail: 'content does not match its hash' };
  return { header: h, stream };
}

/** null = absent, 0 = NEVER, else a bit set of SUCCESS / FAILURE / DELAY. */
function notifyCode(n: Notify): number | null {
  if (n === null) return null;
  if (n === 'NEVER') return 0;
  return n.reduce((bits, c) => bits | NOTIFY_BITS[c], 0);
}

function notifyValue(code: unknown): Notify | undefined {
  if (code === null) return null;
  if (code === 0) return 'NEVER';
  if (!isInt(code) || code < 1 || code > 7) return undefined;
  return (Object.keys(NOTIFY_BITS) as NotifyCondition[]).filter((c) => (code & NOTIFY_BITS[c]) !== 0);
}

/**
 * The bundle of a transfer: `history` is the session history it names (if any), `transferId` the id its OPEN
 * named (a format 4 envelope leaves it out).
 */
export function decodeBundle(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS, history?: Uint8Array, transferId?: string): Bundle | CodecError {
  const r = inflate(bytes, history, limits);
  return 'error' in r ? r : decodeStream(r.stream, r.header, limits, transferId);
}

/** The envelope and content of a stream inflated by bundleStream. */
function decodeStream(stream: Uint8Array, header: BundleHeader, limits: DecodeLimits, transferId?: string): Bundle | CodecError {
  const { contentLength, format } = header;
  const bad = (detail: string): CodecError => ({ error: 'schema', detail });
  const env = cbor(stream.subarray(contentLength));
  if ('error' in env) return env;
  if (!Array.isArray(env.value) || env.value.length !== (format === FORMAT_ZSTD ? 10 : 9)) return bad('envelope');
  const [named, prio, by, aby, sender, params, rcpts, receivedAt, submitter, traceFields] = env.value as unknown[];
  const id = format === FORMAT_ZSTD && named === null ? transferId : named;
  if (!isText(id, 255) || id === '') return bad(named === null ? 'id: none in the bundle, and no transfer named one' : 'id');
  if (!Array.isArray(prio) || prio.length !== 3 || !isInt(prio[0]) || prio[0] < -9 || prio[0] > 9 || !isInt(prio[1]) || !SOURCES[prio[1]] || !(prio[2] === null || (isInt(prio[2]) && Math.abs(prio[2]) <= 99)))
    return bad('priority');
  const priority: Priority = prio[2] === null ? { value: prio[0], source: SOURCES[prio[1]]! } : { value: prio[0], source: SOURCES[prio[1]]!, requested: prio[2] };
  const byD = deadlineValue(by);
  const abyD = deadlineValue(aby);
  if (byD === undefined || abyD === undefined) return bad('deadline');
  if (!isText(sender, MAX_TEXT)) return bad('sender');
  if (!Array.isArray(params) || params.length !== 5) return bad('params');
  const [envid, ret, body, utf8, size] = params as unknown[];
  if (!(envid === null || isText(envid, 100)) || !(ret === null || ret === 0 || ret === 1) || !(body === null || body === 0 || body === 1) || !(utf8 === 0 || utf8 === 1) || !(size === null || (isInt(size) && size >= 0)))
    return bad('params');
  if (!Array.isArray(rcpts) || rcpts.length === 0 || rcpts.length > limits.maxRecipients) return bad(`recipients (1..${limits.maxRecipients})`);
  const recipients: BundleRecipient[] = [];
  for (const r of rcpts as unknown[]) {
    if (!Array.isArray(r) || r.length !== 4 || !isText(r[0], MAX_TEXT) || r[0] === '') return bad('recipient');
    const notify = notifyValue(r[1]);
    const orcpt = Array.isArray(r[2]) && r[2].length === 1 ? typedValue([r[2][0], r[0]]) : typedValue(r[2]);
    const arcpt = typedValue(r[3]);
    if (notify === undefined || orcpt === undefined || arcpt === undefined) return bad('recipient parameters');
    recipients.push({ address: r[0], notify, ...(orcpt ? { orcpt } : {}), ...(arcpt ? { arcpt } : {}) });
  }
  if (!isInt(receivedAt) || receivedAt < 0) return bad('receivedAt');
  let sub: Submitter | undefined;
  if (submitter !== null) {
    if (!Array.isArray(submitter) || submitter.length !== 5 || !isText(submitter[0], 64) || !isText(submitter[1], 255) || !isText(submitter[2], 255) || !(submitter[3] === null || isText(submitter[3], 255)) || !(submitter[4] === 0 || submitter[4] === 1))
      return bad('submitter');
    sub = { clientAddress: submitter[0], clientHostname: submitter[1], helo: submitter[2], ...(submitter[3] !== null ? { user: submitter[3] } : {}), trusted: submitter[4] === 1 };
  }
  let trace: BundleTrace | undefined;
  if (traceFields !== undefined && traceFields !== null) {
    const f = traceFields as unknown[];
    if (!Array.isArray(f) || f.length !== 8 || !isText(f[0], 255) || !isText(f[1], 32) || !isText(f[2], 255) || !isText(f[3], 64) || !(f[4] === null || isText(f[4], 255)) || !(f[5] === null || isText(f[5], MAX_TEXT)) || !isInt(f[6]) || Math.abs(f[6]) > 9 || !isInt(f[7]) || Math.abs(f[7]) > 999_999_999 || !isInt(receivedAt))
      return bad('trace');
    const date = (Math.floor(receivedAt / 1000) + f[7]) * 1000;
    trace = { by: f[0], protocol: f[1], helo: f[2], clientAddress: f[3], ...(f[4] !== null ? { clientHostname: f[4] as string } : {}), ...(f[5] !== null ? { forRecipient: f[5] as string } : {}), priority: f[6], date };
  }
  const p: { -readonly [K in keyof Bundle['params']]: Bundle['params'][K] } = { smtputf8: utf8 === 1 };
  if (envid !== null) p.envid = envid as string;
  if (ret !== null) p.ret = RETS[ret as 0 | 1];
  if (body !== null) p.body = BODIES[body as 0 | 1];
  if (size !== null) p.size = size as number;
  return {
    id,
    priority,
    ...(byD ? { by: byD } : {}),
    ...(abyD ? { aby: abyD } : {}),
    sender,
    params: p,
    recipients,
    receivedAt,
    ...(sub ? { submitter: sub } : {}),
    ...(trace ? { trace } : {}),
    content: Buffer.from(stream.subarray(0, contentLength)),
  };
}

/** cbor-x behind a wall: whatever it throws becomes an error value. */
function cbor(bytes: Uint8Array): { value: unknown } | CodecError {
  try {
    // A view of its own: cbor-x caches a DataView on the array it is given, which is the caller's.
    return { value: decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)) };
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    return { error: /end of|Unexpected end/i.test(msg) ? 'truncated' : 'bad-cbor', detail: msg };
  }
}

function deadlineValue(v: unknown): RemainingDeadline | null | undefined {
  if (v === null) return null;
  if (!Array.isArray(v) || v.length !== 4 || !isInt(v[0]) || !(v[1] === 0 || v[1] === 1) || !(v[2] === 0 || v[2] === 1) || !isInt(v[3])) return undefined;
  if (Math.abs(v[0]) > 999_999_999 || Math.abs(v[3]) > 999_999_999) return undefined;
  return { remainingSeconds: v[0], mode: v[1] === 1 ? 'R' : 'N', trace: v[2] === 1, requestedSeconds: v[3] };
}

function typedValue(v: unknown): TypedAddress | null | undefined {
  if (v === null) return null;
  if (!Array.isArray(v) || v.length !== 2 || !isText(v[0], 64) || !isText(v[1], MAX_TEXT)) return undefined;
  return { type: v[0], address: v[1] };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** Envelope text: bounded, and never CR, LF or NUL, which would let a peer forge SMTP commands or header lines. */
function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max && !/[\r\n\0]/.test(v);
}
