// The bundle codec: exact round trips (absence preserved), the smallest codec wins, and hostile input is refused
// cheaply with an error value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliCompressSync, constants, deflateRawSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import {
  BodyCodec,
  bundleContext,
  bundleFromMessage,
  bundleStream,
  compressBody,
  contentHash,
  decodeBundle,
  decompressBody,
  DEFAULT_LIMITS,
  dictionaryFor,
  encodeBundle,
  isCodecError,
  mailParamsFromBundle,
  type Bundle,
} from '../src/codec/index.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';
import { fieldReport, htmlProse, noise, realisticMail } from './support/mail-samples.ts';
import { createRequire } from 'node:module';

const notify = fc.oneof(fc.constant(null), fc.constant('NEVER' as const), fc.subarray(['SUCCESS', 'FAILURE', 'DELAY'] as const, { minLength: 1 }));
const typed = fc.option(fc.record({ type: fc.constantFrom('rfc822', 'utf-8', 'x400'), address: fc.string({ minLength: 1, maxLength: 60 }) }), { nil: undefined });
const deadline = fc.option(fc.record({ remainingSeconds: fc.integer({ min: -1e6, max: 1e6 }), mode: fc.constantFrom('R' as const, 'N' as const), trace: fc.boolean(), requestedSeconds: fc.integer({ min: -1e6, max: 1e6 }) }), { nil: undefined });
const bundle: fc.Arbitrary<Bundle> = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 40 }),
    value: fc.integer({ min: -9, max: 9 }),
    source: fc.constantFrom('mt-priority' as const, 'draft-priority' as const, 'header' as const, 'policy' as const),
    requested: fc.option(fc.integer({ min: -99, max: 99 }), { nil: undefined }),
    by: deadline,
    aby: deadline,
    sender: fc.string({ maxLength: 60 }),
    envid: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
    ret: fc.option(fc.constantFrom('FULL' as const, 'HDRS' as const), { nil: undefined }),
    body: fc.option(fc.constantFrom('7BIT' as const, '8BITMIME' as const), { nil: undefined }),
    smtputf8: fc.boolean(),
    size: fc.option(fc.nat(), { nil: undefined }),
    recipients: fc.array(fc.record({ address: fc.string({ minLength: 1, maxLength: 60 }), notify, orcpt: typed, arcpt: typed }), { minLength: 1, maxLength: 20 }),
    receivedAt: fc.nat(),
    submitter: fc.option(fc.record({ clientAddress: fc.string({ maxLength: 64 }), clientHostname: fc.string({ maxLength: 60 }), helo: fc.string({ maxLength: 60 }), user: fc.option(fc.string({ maxLength: 60 }), { nil: undefined }), trusted: fc.boolean() }), { nil: undefined }),
    content: fc.uint8Array({ maxLength: 65536 }),
  })
  .map((r) => {
    const strip = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
    return strip({
      id: r.id,
      priority: strip({ value: r.value, source: r.source, requested: r.requested }),
      by: r.by,
      aby: r.aby,
      sender: r.sender,
      params: strip({ envid: r.envid, ret: r.ret, body: r.body, smtputf8: r.smtputf8, size: r.size }),
      recipients: r.recipients.map((x) => strip({ address: x.address, notify: x.notify as Bundle['recipients'][number]['notify'], orcpt: x.orcpt, arcpt: x.arcpt })),
      receivedAt: r.receivedAt,
      submitter: r.submitter && strip(r.submitter),
      content: r.content,
    }) as Bundle;
  });

const normal = (b: Bundle) => JSON.parse(JSON.stringify({ ...b, content: Buffer.from(b.content).toString('hex') }));

test('round trip of arbitrary bundles, absent parameters staying absent', () => {
  fc.assert(
    fc.property(bundle, fc.constantFrom(0, 1), (b, dict) => {
      const back = decodeBundle(encodeBundle(b, dict));
      assert.ok(!isCodecError(back), JSON.stringify(back));
      assert.deepEqual(normal(back), normal(b));
    }),
    { numRuns: 150 },
  );
});

test('a queued message becomes a bundle with deadlines as seconds remaining', () => {
  const now = 1_800_000_000_000;
  const msg = buildMessage({ params: { smtputf8: false, envid: 'QQ314159', by: { at: now + 120_000, mode: 'R', trace: false, requestedSeconds: 120 } } });
  const b = bundleFromMessage(msg, now + 20_500);
  assert.deepEqual(b.by, { remainingSeconds: 99, mode: 'R', trace: false, requestedSeconds: 120 });
  const back = decodeBundle(encodeBundle(b, 1));
  assert.ok(!isCodecError(back));
  assert.equal(back.params.envid, 'QQ314159');
  assert.deepEqual(back.recipients.map((r) => r.notify), msg.recipients.map((r) => r.notify));
  assert.ok(Buffer.from(back.content).equals(Buffer.from(msg.content)));
  // The receiver anchors the deadline again: never later than the original, less than a second earlier.
  const params = mailParamsFromBundle(back, now + 20_500);
  assert.deepEqual(params, { smtputf8: false, envid: 'QQ314159', by: { at: now + 119_500, mode: 'R', trace: false, requestedSeconds: 120 } });
  assert.deepEqual(mailParamsFromBundle(back, now + 60_000).by?.at, now + 159_000, 'anchored where the receiver says');
});

test('absence is kept: no parameter is not an empty one, NOTIFY absent is not NEVER, an N-mode deadline may be past', () => {
  const now = 1_800_000_000_000;
  const bare = buildMessage({ sender: '', params: { smtputf8: false }, recipients: [buildRecipient({ address: 'a@x.example', notify: null })] });
  const full = buildMessage({
    params: { smtputf8: true, envid: 'QQ314159', ret: 'HDRS', body: '8BITMIME', size: 0, by: { at: now - 30_000, mode: 'N', trace: true, requestedSeconds: 60 }, aby: { at: now + 5_000, mode: 'R', trace: false, requestedSeconds: 3600 } },
    priority: { value: -9, source: 'draft-priority', requested: -99 },
    recipients: [
      buildRecipient({ address: 'a@x.example', notify: null }),
      buildRecipient({ address: 'b@x.example', notify: 'NEVER', orcpt: { type: 'rfc822', address: 'b@x.example' } }),
      buildRecipient({ address: 'c@x.example', notify: ['SUCCESS', 'DELAY'], orcpt: { type: 'utf-8', address: 'ç@x.example' }, arcpt: { type: 'rfc822', address: 'alt@y.example' } }),
      buildRecipient({ address: 'd@x.example', notify: ['FAILURE'] }),
    ],
  });
  const b = decodeBundle(encodeBundle(bundleFromMessage(bare, now), 1));
  assert.ok(!isCodecError(b));
  assert.deepEqual(b.params, { smtputf8: false });
  assert.equal(b.sender, '', 'the null sender');
  assert.ok(!('by' in b) && !('aby' in b) && !('orcpt' in b.recipients[0]!) && !('arcpt' in b.recipients[0]!) && !('requested' in b.priority));
  const f = decodeBundle(encodeBundle(bundleFromMessage(full, now), 1));
  assert.ok(!isCodecError(f));
  assert.deepEqual(f.params, { smtputf8: true, envid: 'QQ314159', ret: 'HDRS', body: '8BITMIME', size: 0 });
  assert.deepEqual(f.by, { remainingSeconds: -30, mode: 'N', trace: true, requestedSeconds: 60 });
  assert.deepEqual(f.aby, { remainingSeconds: 5, mode: 'R', trace: false, requestedSeconds: 3600 });
  assert.deepEqual(f.priority, { value: -9, source: 'draft-priority', requested: -99 });
  assert.deepEqual(
    f.recipients.map((r) => [r.notify, r.orcpt ?? '-', r.arcpt ?? '-']),
    [
      [null, '-', '-'],
      ['NEVER', { type: 'rfc822', address: 'b@x.example' }, '-'],
      [['SUCCESS', 'DELAY'], { type: 'utf-8', address: 'ç@x.example' }, { type: 'rfc822', address: 'alt@y.example' }],
      [['FAILURE'], '-', '-'],
    ],
  );
  assert.deepEqual(f.submitter, full.submitter);
});

const enc = new Encoder({ useRecords: false });
const codecOf = (bytes: Uint8Array) => (enc.decode(bytes) as unknown[][])[1]![0];
const simple = (content: Uint8Array): Bundle => ({ id: 'x', priority: { value: 0, source: 'policy' }, sender: 'a@b', params: { smtputf8: false }, recipients: [{ address: 'c@d', notify: null }], receivedAt: 0, content });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test('the smallest codec wins: dictionary deflate for mail, brotli for long prose, stored for noise; all byte-exact', () => {
  const cases: [string, Uint8Array, number][] = [
    ['mail', fieldReport, BodyCodec.DEFLATE],
    ['html prose', htmlProse(), BodyCodec.BROTLI],
    ['noise', noise(4000), BodyCodec.STORED],
  ];
  for (const [name, content, codec] of cases) {
    const bytes = encodeBundle(simple(content), 1);
    assert.equal(codecOf(bytes), codec, name);
    const back = decodeBundle(bytes);
    assert.ok(!isCodecError(back) && same(back.content, content), name);
  }
  assert.ok(encodeBundle(simple(fieldReport), 1).length < encodeBundle(simple(fieldReport), 0).length, 'the dictionary helps');
  // compressBody keeps exactly the smallest of the three, and each decompresses to the input.
  for (const content of [fieldReport, ...realisticMail, htmlProse(), noise(1000), new Uint8Array(0)]) {
    const dict = dictionaryFor(1)!;
    const sizes = [
      content.length,
      deflateRawSync(content, { level: 9, dictionary: dict }).length,
      brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: content.length } }).length,
    ];
    const body = compressBody(content, 1);
    assert.equal(body.bytes.length, Math.min(...sizes));
    const out = decompressBody(body, content.length);
    assert.ok(out instanceof Uint8Array && same(out, content));
  }
});

/** The envelope a gateway would have for a message: From as the sender, To and Cc as recipients, the last hop as submitter. */
function envelopeOf(content: Buffer) {
  const head = content.toString('latin1').split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'im').exec(head)?.[1] ?? '';
  const addresses = (text: string) => [...text.matchAll(/[\w.+-]+@[\w.-]+\w/g)].map((m) => m[0]);
  const hop = /^Received: from (\S+) \((?:\S+ )?\[([\d.]+)\]\)/im.exec(head);
  return { sender: addresses(field('From'))[0]!, recipients: [...new Set(addresses(`${field('To')} ${field('Cc')}`))], hostname: hop?.[1] ?? '', ip: hop?.[2] ?? '' };
}

test('realistic messages: the whole bundle (envelope too) is smaller than gzip -9 of the message alone', () => {
  const now = 1_800_000_000_000;
  for (const content of realisticMail) {
    const env = envelopeOf(content);
    assert.ok(env.sender && env.recipients.length && env.ip, JSON.stringify(env));
    const msg = buildMessage({
      id: '01KJ8Z3W5T0B9Q7R2M4N',
      receivedAt: now,
      sender: env.sender,
      params: { smtputf8: false, envid: 'QQ314159', ret: 'HDRS', size: content.length, by: { at: now + 3_600_000, mode: 'R', trace: false, requestedSeconds: 3600 } },
      priority: { value: 4, source: 'mt-priority', requested: 4 },
      recipients: env.recipients.map((address, i) =>
        buildRecipient({ address, notify: i === 0 ? ['SUCCESS', 'FAILURE'] : ['FAILURE', 'DELAY'], orcpt: { type: 'rfc822', address }, ...(i === 1 ? { arcpt: { type: 'rfc822', address: 'duty@base.example' } } : {}) }),
      ),
      submitter: { clientAddress: env.ip, clientHostname: env.hostname, helo: env.hostname, trusted: false },
      content,
    });
    const bundle = encodeBundle(bundleFromMessage(msg, now + 1000), 1);
    const gzip = gzipSync(content, { level: 9 }).length;
    assert.ok(content.length >= 1000 && content.length <= 4096, `sample of ${content.length} bytes`);
    assert.ok(bundle.length < gzip, `bundle ${bundle.length} bytes, gzip -9 of the message ${gzip} (raw ${content.length})`);
  }
});

/** A bundle around any envelope value, stored, with the right hash: what a buggy or hostile peer could send. */
function forged(envelope: unknown, content: Uint8Array = Buffer.from('x')): Uint8Array {
  const env = enc.encode(envelope);
  const stream = Buffer.concat([content, env]);
  return enc.encode([3, [BodyCodec.STORED, 0, content.length, env.length, contentHash(stream)], stream]);
}
const okEnvelope = ['id1', [0, 3, null], null, null, 'a@b', [null, null, null, 0, null], [['c@d', null, null, null]], 0, null];
const errorOf = (bytes: Uint8Array, limits = DEFAULT_LIMITS) => {
  const r = decodeBundle(bytes, limits);
  return isCodecError(r) ? r.error : 'decoded';
};

test('wrong types, values out of range, unknown enums and over-long fields are schema errors', () => {
  assert.equal(errorOf(forged(okEnvelope)), 'decoded');
  const at = (i: number, v: unknown) => okEnvelope.map((x, j) => (j === i ? v : x));
  const rcpt = (r: unknown[]) => at(6, [r]);
  const wrong: [string, unknown][] = [
    ['id a number', at(0, 42)],
    ['id empty', at(0, '')],
    ['id with CRLF', at(0, 'x\r\nBcc: y')],
    ['priority 10', at(1, [10, 3, null])],
    ['priority source 4', at(1, [0, 4, null])],
    ['priority a string', at(1, ['5', 3, null])],
    ['requested 100', at(1, [0, 0, 100])],
    ['deadline mode 2', at(2, [10, 2, 0, 10])],
    ['deadline not an integer', at(3, [1.5, 1, 0, 10])],
    ['sender a number', at(4, 7)],
    ['sender injecting a command', at(4, 'a@b>\r\nRCPT TO:<evil@c')],
    ['envid of 101 characters', at(5, ['e'.repeat(101), null, null, 0, null])],
    ['ret 2', at(5, [null, 2, null, 0, null])],
    ['smtputf8 a boolean', at(5, [null, null, null, true, null])],
    ['size negative', at(5, [null, null, null, 0, -1])],
    ['no recipients', at(6, [])],
    ['1001 recipients', at(6, Array.from({ length: 1001 }, (_, i) => [`r${i}@d`, null, null, null]))],
    ['empty address', rcpt(['', null, null, null])],
    ['address of 1025 characters', rcpt(['a'.repeat(1020) + '@d.xx', null, null, null])],
    ['notify 8', rcpt(['c@d', 8, null, null])],
    ['notify a list', rcpt(['c@d', ['SUCCESS'], null, null])],
    ['arcpt without address', rcpt(['c@d', null, null, ['rfc822']])],
    ['orcpt a string', rcpt(['c@d', null, 'rfc822;c@d', null])],
    ['receivedAt negative', at(7, -1)],
    ['submitter trusted 2', at(8, ['1.2.3.4', 'h', 'helo', null, 2])],
    ['envelope of 8 fields', okEnvelope.slice(0, 8)],
    ['envelope a map', { id: 'id1' }],
    ['outer format 2', null],
  ];
  for (const [name, envelope] of wrong) {
    const bytes = envelope === null ? enc.encode([2, [0, 0, 1, 1, new Uint8Array(8)], Uint8Array.of(1, 0xf6)]) : forged(envelope);
    assert.equal(errorOf(bytes), 'schema', name);
  }
  assert.equal(errorOf(forged(okEnvelope, new Uint8Array(100)), { ...DEFAULT_LIMITS, maxContent: 99 }), 'too-large', 'content over the limit');
  assert.equal(errorOf(forged(at(6, [['a@d', null, null, null], ['b@d', null, null, null]])), { ...DEFAULT_LIMITS, maxRecipients: 1 }), 'schema', 'recipients over the limit');
});

test('bombs and lies: declared sizes are checked before inflating; over-inflation stops at the declared length', () => {
  const base = (info: unknown[], body: Uint8Array) => enc.encode([3, info, body]);
  const zeros = deflateRawSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~65 KB
  const brotliZeros = brotliCompressSync(Buffer.alloc(64 * 1024 * 1024)); // ~100 bytes
  const t0 = process.hrtime.bigint();
  const rss0 = process.memoryUsage().rss;
  assert.equal(errorOf(base([BodyCodec.DEFLATE, 0, 1000, 0, new Uint8Array(8)], zeros)), 'too-large', 'deflate bomb');
  assert.equal(errorOf(base([BodyCodec.BROTLI, 0, 1000, 0, new Uint8Array(8)], brotliZeros)), 'too-large', 'brotli bomb');
  assert.equal(errorOf(base([BodyCodec.DEFLATE, 0, 2 ** 30, 0, new Uint8Array(8)], zeros)), 'too-large', '1 GiB declared');
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 500, 'refusing took too long');
  assert.ok(process.memoryUsage().rss - rss0 < 48 * 1024 * 1024, 'refusing allocated what the peer declared');
  assert.equal(errorOf(base([BodyCodec.STORED, 0, 3, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))), 'hash-mismatch');
  assert.equal(errorOf(base([BodyCodec.STORED, 9, 3, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))), 'unknown-dictionary');
  assert.equal(errorOf(base([BodyCodec.DEFLATE, 9, 3, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3)), { ...DEFAULT_LIMITS, dictionaries: [0, 1, 2, 9] }), 'unknown-dictionary', 'advertised but not held');
  assert.equal(errorOf(base([BodyCodec.STORED, 0, 4, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))), 'length-mismatch');
  assert.equal(errorOf(base([BodyCodec.DEFLATE, 0, 4, 0, new Uint8Array(8)], deflateRawSync(Uint8Array.of(1, 2, 3)))), 'length-mismatch');
  assert.equal(errorOf(base([7, 0, 3, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))), 'bad-compression', 'unknown codec');
  assert.equal(errorOf(base([BodyCodec.DEFLATE, 0, 3, 0, new Uint8Array(8)], Uint8Array.of(0xff, 0xff, 0xff))), 'bad-compression', 'not deflate');
  assert.equal(errorOf(base([BodyCodec.DEFLATE, 0, 3, 0, new Uint8Array(8)], Buffer.concat([deflateRawSync(Uint8Array.of(1, 2, 3)), Buffer.from('junk')]))), 'bad-compression', 'bytes after the stream');
  assert.equal(errorOf(enc.encode([3, [12, 0, null]])), 'schema');
  assert.equal(errorOf(base([BodyCodec.STORED, 0, 0, 1 << 20, new Uint8Array(8)], new Uint8Array(0))), 'too-large');
  // A real bundle whose content was altered after hashing.
  const good = enc.decode(encodeBundle(simple(noise(100)), 1)) as [number, unknown[], Uint8Array];
  const tampered = Uint8Array.from(good[2]);
  tampered[5]! ^= 1;
  assert.equal(errorOf(enc.encode([good[0], good[1], tampered])), 'hash-mismatch');
});

test('every truncation, random bytes and mutations give an error value, never a throw', () => {
  const good = encodeBundle({ id: 'x', priority: { value: 4, source: 'mt-priority', requested: 4 }, sender: 'a@b', params: { smtputf8: false, envid: 'E' }, recipients: [{ address: 'c@d', notify: ['SUCCESS'] }], receivedAt: 5, content: fieldReport }, 1);
  for (let n = 0; n < good.length; n++) assert.ok(isCodecError(decodeBundle(good.subarray(0, n))), `prefix ${n}`);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
      const r = decodeBundle(junk);
      assert.ok(isCodecError(r) || typeof r.id === 'string');
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
      const bytes = Uint8Array.from(good);
      for (const [i, x] of flips) bytes[i]! ^= x;
      const r = decodeBundle(bytes);
      assert.ok(isCodecError(r) || typeof r.id === 'string');
    }),
    { numRuns: 300 },
  );
});

// ---- format 4: zstd with dictionary version 2, and the session's history --------------------------------------

const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');

test('zstd bundles (dictionary 2): byte-identical content; with a history, decodable only against the same bytes', () => {
  const b = bundleFromMessage(buildMessage({ content: realisticMail[0]! }), 1_800_000_000_000);
  const alone = encodeBundle(b, 2);
  const back = decodeBundle(alone, DEFAULT_LIMITS, undefined, b.id);
  assert.ok(!isCodecError(back), JSON.stringify(back));
  assert.ok(Buffer.from(back.content).equals(Buffer.from(b.content)));
  assert.deepEqual(bundleContext(alone), { count: 0, excluded: [] });
  assert.ok(alone.length < encodeBundle(b, 1).length, `zstd ${alone.length} B, deflate ${encodeBundle(b, 1).length} B`);
  // A history holding a similar message: the bundle names it and is smaller.
  const history = bundleStream(encodeBundle(bundleFromMessage(buildMessage({ content: realisticMail[0]! }), 1_800_000_000_000), 2)) as Uint8Array;
  const withHistory = encodeBundle(b, 2, { count: 3, excluded: [2], history });
  assert.deepEqual(bundleContext(withHistory), { count: 3, excluded: [2] });
  assert.ok(withHistory.length < alone.length / 2, `${withHistory.length} B against the history, ${alone.length} B alone`);
  assert.equal(errorOf(alone), 'schema', 'format 4 leaves the id to the transfer');
  const same = decodeBundle(withHistory, DEFAULT_LIMITS, history, b.id);
  assert.ok(!isCodecError(same) && Buffer.from(same.content).equals(Buffer.from(b.content)));
  assert.equal(errorOf(withHistory), 'no-context');
  const other = Uint8Array.from(history).reverse(); // the same length and bytes, in another order
  const wrong = decodeBundle(withHistory, DEFAULT_LIMITS, other);
  assert.ok(isCodecError(wrong) && ['hash-mismatch', 'bad-compression', 'length-mismatch'].includes(wrong.error), isCodecError(wrong) ? wrong.error : 'decoded against another history');
  // Without a zstd dictionary on both sides the history is not used.
  assert.deepEqual(bundleContext(encodeBundle(b, 1, { count: 3, excluded: [], history })), { count: 0, excluded: [] });
});

test('zstd bundles: a bomb stops at the declared length, bytes after the frame and bad headers are refused, nothing throws', () => {
  const base = (codec: number, contentLength: number, body: Uint8Array, ctx: unknown = 0, check = new Uint8Array(4)) => enc.encode([4, codec, 2, contentLength, 0, ctx, check, body]);
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.compressionLevel, 3);
  const big = Buffer.alloc(64 * 1024 * 1024);
  const bomb = Buffer.alloc(zstd.compressBound(big.length));
  const bombBytes = bomb.subarray(0, cctx.compress2(bomb, big)); // 64 MiB of zeros in a few KB
  cctx.loadDictionary(dictionaryFor(2)!);
  const small = Buffer.alloc(1024);
  const one = small.subarray(0, cctx.compress2(small, Buffer.from('hello')));
  const t0 = process.hrtime.bigint();
  const rss0 = process.memoryUsage().rss;
  assert.equal(errorOf(base(BodyCodec.ZSTD, 1000, bombBytes)), 'too-large', 'zstd bomb');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 2 ** 30, bombBytes)), 'too-large', '1 GiB declared');
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 500, 'refusing took too long');
  assert.ok(process.memoryUsage().rss - rss0 < 48 * 1024 * 1024, 'refusing allocated what the peer declared');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, Buffer.concat([one, Buffer.from([0])]))), 'bad-compression', 'a byte after the frame');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, Uint8Array.of(1, 2, 3))), 'bad-compression', 'not zstd');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, one)), 'hash-mismatch', 'the check decides');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, one, [0, 1])), 'schema', 'exclusions without a count');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, one, -1)), 'schema', 'a negative count');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, one, 0, new Uint8Array(8))), 'schema', 'a check of another length');
  assert.equal(errorOf(base(BodyCodec.ZSTD, 5, one, [4, ...Array.from({ length: 65 }, (_, i) => i + 1)])), 'schema', 'too many exclusions');
  assert.equal(errorOf(enc.encode([4, BodyCodec.ZSTD, 2, 5, 0, 0, new Uint8Array(4)])), 'schema', 'seven fields');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 5000 }), (junk, n) => {
      const r = decodeBundle(base(BodyCodec.ZSTD, n, junk));
      assert.ok(isCodecError(r));
    }),
    { seed: 11, numRuns: 300 },
  );
});
