import { Decoder, Encoder } from 'cbor-x';
import { brotliDecompressSync, deflateRawSync, inflateRawSync } from 'node:zlib';
import { bundleFromMessage, contentHash, decodeBundle, dictionaryFor, encodeBundle, isCodecError, type Bundle, type DecodeLimits } from '../../src/codec/index.ts';
import type { QueuedMessage } from '../../src/core/index.ts';
import { mutate, Rng } from './rng.ts';
import { fail, hex, sameBytes, type DecoderTarget } from './target.ts';

const LIMITS: DecodeLimits = { maxContent: 256 * 1024, maxRecipients: 100, dictionaries: [0, 1, 2] };
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

interface BundleInput {
  readonly bytes: Uint8Array;
  /** The bundle it encodes, when not mutated: decoding must give it back. */
  readonly original: Bundle | null;
  /** Encode what decodes again and compare (slow: the encoder tries every codec), for a few inputs. */
  readonly reencode: boolean;
}

let corpus: { bundle: Bundle; bytes: Uint8Array; stream: Uint8Array; contentLength: number }[] = [];
let bombs: Uint8Array[] = [];
/** Format 4 (zstd, dictionary 2): the id is the transfer's, given to the decoder, as the link does. */
let zstdCorpus: { bundle: Bundle; bytes: Uint8Array }[] = [];
const TRANSFER_ID = 'fuzz-transfer';

function address(rng: Rng): string {
  const local = rng.pick(['ops', 'a', 'jörg', 'x.y+z', 'very-long-'.repeat(rng.int(20))]);
  return `${local}@${rng.pick(['base.example', 'field.example', 'bücher.example', 'example.net'])}`;
}

function message(rng: Rng, i: number): QueuedMessage {
  const now = 1_800_000_000_000;
  const body = Array.from({ length: rng.size(200) }, (_, j) => `line ${j} ${'word '.repeat(rng.int(12))}`).join('\r\n');
  const content = Buffer.from(`Received: from a by b; Mon, 1 Jan 2027 00:00:00 +0000\r\nSubject: fuzz ${i}\r\nMT-Priority: ${rng.range(-9, 9)}\r\n\r\n${body}\r\n`, 'utf8');
  const deadline = () => ({ at: now + rng.int(86_400_000), mode: rng.pick(['R', 'N'] as const), trace: rng.chance(0.5), requestedSeconds: rng.int(86_400) });
  return {
    id: `01FUZZ${String(i).padStart(14, '0')}`,
    receivedAt: now - rng.int(1000),
    sender: rng.chance(0.1) ? '' : address(rng),
    params: { smtputf8: rng.chance(0.3), ...(rng.chance(0.5) ? { by: deadline() } : {}), ...(rng.chance(0.3) ? { aby: deadline() } : {}), ...(rng.chance(0.5) ? { envid: `ENV${rng.int(1e6)}` } : {}), ...(rng.chance(0.5) ? { ret: rng.pick(['FULL', 'HDRS'] as const) } : {}), ...(rng.chance(0.5) ? { body: rng.pick(['7BIT', '8BITMIME'] as const) } : {}), ...(rng.chance(0.5) ? { size: content.length } : {}) },
    priority: rng.chance(0.5) ? { value: rng.range(-9, 9), source: 'mt-priority', requested: rng.range(-9, 9) } : { value: 0, source: 'policy' },
    recipients: Array.from({ length: 1 + rng.int(5) }, () => {
      const a = address(rng);
      return {
        address: a,
        notify: rng.pick([null, 'NEVER', ['SUCCESS'], ['FAILURE', 'DELAY']] as const) as QueuedMessage['recipients'][number]['notify'],
        ...(rng.chance(0.5) ? { orcpt: { type: 'rfc822', address: rng.chance(0.5) ? a : address(rng) } } : {}),
        ...(rng.chance(0.3) ? { arcpt: { type: 'rfc822', address: address(rng) } } : {}),
        route: { kind: 'link' as const, target: 'bravo' },
        state: 'queued' as const,
      };
    }),
    submitter: { clientAddress: '192.0.2.1', clientHostname: 'c.example', helo: 'c', trusted: rng.chance(0.5), ...(rng.chance(0.3) ? { user: 'ops' } : {}) },
    content,
  };
}

/** The bundle format around a stream of our choosing: `[3, [codec, dictionary, contentLength, envelopeLength, hash], body]`. */
function wrap(codec: number, dict: number, contentLength: number, envelopeLength: number, hash: Uint8Array, body: Uint8Array): Uint8Array {
  return cbor.encode([3, [codec, dict, contentLength, envelopeLength, hash], body]);
}

/**
 * The bundle decoder: every bundle of a varied corpus decodes to what was encoded; mutated bundles (the outer
 * CBOR, the stored stream with a valid hash so the envelope checks are reached, lying lengths) and decompression
 * bombs never throw, never inflate past the limit, and what decodes is within the limits and encodes again.
 */
export const bundleTarget: DecoderTarget<BundleInput> = {
  name: 'bundle',
  description: 'CBOR bundles: round trip, mutated outer and inner bytes with valid hashes, lying lengths, bombs',
  setup(): void {
    const rng = new Rng(0xb0d1e);
    corpus = Array.from({ length: 48 }, (_, i) => {
      const m = message(rng, i);
      const bundle = bundleFromMessage(m, 1_800_000_000_000);
      const bytes = encodeBundle(bundle, i % 2);
      const b = decodeBundle(bytes, LIMITS);
      if (isCodecError(b)) throw new Error(`corpus bundle ${i} does not decode: ${b.error} ${b.detail}`);
      // The stream (content, then the envelope), for mutations behind a valid hash.
      const { stream, contentLength } = storedForm(bytes);
      return { bundle: b, bytes, stream, contentLength };
    });
    zstdCorpus = Array.from({ length: 16 }, (_, i) => {
      const bytes = encodeBundle({ ...bundleFromMessage(message(rng, 100 + i), 1_800_000_000_000), id: TRANSFER_ID }, 2);
      const bundle = decodeBundle(bytes, LIMITS, undefined, TRANSFER_ID);
      if (isCodecError(bundle)) throw new Error(`corpus bundle ${i} (format 4) does not decode: ${bundle.error} ${bundle.detail}`);
      return { bundle, bytes };
    });
    // 64 MiB of zeros in 64 KB, declared small and declared at the limit.
    const zeros = deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    bombs = [wrap(1, 0, 1000, 10, new Uint8Array(8), zeros), wrap(1, 0, LIMITS.maxContent, 65536, new Uint8Array(8), zeros), wrap(2, 0, 5, 5, new Uint8Array(8), zeros)];
  },
  generate(rng: Rng): BundleInput {
    const c = rng.pick(corpus);
    const r = rng.int(50);
    const reencode = rng.chance(0.01);
    if (r === 0) return { bytes: rng.pick(bombs), original: null, reencode };
    if (r < 10) {
      const z = rng.pick(zstdCorpus);
      return r < 6 ? { bytes: z.bytes, original: z.bundle, reencode } : { bytes: mutate(rng, z.bytes), original: null, reencode };
    }
    if (r < 5) return { bytes: c.bytes, original: c.bundle, reencode };
    if (r < 25) return { bytes: mutate(rng, c.bytes), original: null, reencode };
    // The stream stored (codec 0) with a valid hash: the decoder gets past the hash to the envelope's checks.
    let stream = mutate(rng, c.stream);
    let contentLength = c.contentLength;
    if (rng.chance(0.3)) contentLength = rng.chance(0.5) ? rng.int(stream.length + 1) : rng.int(2 ** 32);
    if (rng.chance(0.1)) stream = Buffer.concat([stream, rng.bytes(rng.size(64))]);
    const envelopeLength = rng.chance(0.9) ? Math.max(0, stream.length - contentLength) : rng.int(2 ** 20);
    return { bytes: wrap(0, rng.chance(0.9) ? 0 : rng.int(300), contentLength, envelopeLength, contentHash(stream), stream), original: null, reencode };
  },
  check({ bytes, original, reencode }: BundleInput): void {
    const b = decodeBundle(bytes, LIMITS, undefined, TRANSFER_ID);
    if (isCodecError(b)) {
      if (original) fail(`a valid bundle did not decode: ${b.error} ${b.detail}`);
      return;
    }
    if (b.content.length > LIMITS.maxContent) fail(`content of ${b.content.length} bytes passed the limit`);
    if (b.recipients.length < 1 || b.recipients.length > LIMITS.maxRecipients) fail(`${b.recipients.length} recipients`);
    for (const t of [b.id, b.sender, ...b.recipients.flatMap((r) => [r.address, r.orcpt?.address ?? '', r.arcpt?.address ?? '']), b.params.envid ?? ''])
      if (/[\r\n\0]/.test(t)) fail(`CR, LF or NUL in an envelope field: ${JSON.stringify(t)}`);
    if (original) {
      if (!sameBytes(b.content, original.content) || b.id !== original.id || JSON.stringify({ ...b, content: 0 }) !== JSON.stringify({ ...original, content: 0 })) fail('a bundle decoded differently from what was encoded');
      return;
    }
    if (!reencode) return;
    // What decodes encodes again and decodes to the same.
    const again = decodeBundle(encodeBundle(b, 1), LIMITS);
    if (isCodecError(again)) fail(`a decoded bundle does not decode after encoding again: ${again.error} ${again.detail}`);
    if (!sameBytes(again.content, b.content) || JSON.stringify({ ...again, content: 0 }) !== JSON.stringify({ ...b, content: 0 })) fail('a decoded bundle changes when encoded again');
  },
  show: (i) => `bundle ${hex(i.bytes)}`,
};

/** A bundle of ours in the stored form: the same stream (content, then envelope) and hash, codec 0. */
function storedForm(bytes: Uint8Array): { stream: Uint8Array; contentLength: number; bytes: Uint8Array } {
  const [, [codec, dict, contentLength, envelopeLength, hash], body] = decoder.decode(bytes) as [number, [number, number, number, number, Uint8Array], Uint8Array];
  const d = dictionaryFor(dict)!;
  const n = Math.max(1, contentLength + envelopeLength);
  const stream = codec === 0 ? body : codec === 1 ? inflateRawSync(body, { maxOutputLength: n, ...(d.length ? { dictionary: d } : {}) }) : brotliDecompressSync(body, { maxOutputLength: n });
  return { stream, contentLength, bytes: wrap(0, 0, contentLength, envelopeLength, hash, stream) };
}
