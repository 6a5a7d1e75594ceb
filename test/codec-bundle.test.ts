// The bundle codec: exact round trips (absence preserved), the smallest codec wins, and hostile input is refused
// cheaply with an error value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateRawSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { BodyCodec, bundleFromMessage, decodeBundle, encodeBundle, isCodecError, type Bundle } from '../src/codec/index.ts';
import { buildMessage } from './support/messages.ts';

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
});

const mail = Buffer.from(
  'Received: from laptop.field.example ([10.1.0.7]) by alpha.field.example with ESMTP id 01ABCD for <ops@base.example> PRIORITY 4; Tue, 03 Mar 2026 09:12:00 +0000\r\n' +
    'From: Field Team 3 <team3@field.example>\r\nTo: ops@base.example\r\nSubject: water supply status at camp 4\r\nDate: Tue, 03 Mar 2026 09:11:58 +0000\r\n' +
    'Message-ID: <20260303091158.4411@field.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nUser-Agent: Mozilla Thunderbird\r\n\r\n' +
    'Water supply at camp 4 is down to two days. The pump on the north well failed this morning and we need\r\n' +
    'a replacement impeller (model 5-220) and two jerry cans of fuel for the generator. Please confirm\r\n' +
    'whether the convoy on Thursday can carry them, or send them by helicopter to the landing zone.\r\n\r\nRegards,\r\nTeam 3\r\n',
);

test('the smallest codec wins: dictionary deflate for mail, stored for random bytes; both smaller than gzip', () => {
  const b = (content: Uint8Array): Bundle => ({ id: 'x', priority: { value: 0, source: 'policy' }, sender: 'a@b', params: { smtputf8: false }, recipients: [{ address: 'c@d', notify: null }], receivedAt: 0, content });
  const codecOf = (bytes: Uint8Array) => (new Encoder({ useRecords: false }).decode(bytes) as unknown[][])[1]![0];
  const m = encodeBundle(b(mail), 1);
  assert.equal(codecOf(m), BodyCodec.DEFLATE);
  assert.ok(m.length < gzipSync(mail, { level: 9 }).length, `bundle ${m.length} bytes, gzip ${gzipSync(mail, { level: 9 }).length}`);
  assert.ok(m.length < encodeBundle(b(mail), 0).length, 'the dictionary helps');
  const random = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + ((i * i) >>> 3)) & 0xff);
  const r = encodeBundle(b(random), 1);
  assert.ok([BodyCodec.STORED, BodyCodec.DEFLATE, BodyCodec.BROTLI].includes(codecOf(r) as 0));
  const back = decodeBundle(r);
  assert.ok(!isCodecError(back) && Buffer.from(back.content).equals(Buffer.from(random)));
});

test('bombs and lies: declared sizes are checked before inflating; over-inflation stops at the declared length', () => {
  const enc = new Encoder({ useRecords: false });
  const base = (info: unknown[], body: Uint8Array) => enc.encode([3, info, body]);
  const zeros = deflateRawSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in ~65 KB
  const t0 = process.hrtime.bigint();
  const rss0 = process.memoryUsage().rss;
  const bomb = decodeBundle(base([BodyCodec.DEFLATE, 0, 1000, 0, new Uint8Array(8)], zeros));
  assert.equal(isCodecError(bomb) && bomb.error, 'too-large');
  const lie = decodeBundle(base([BodyCodec.DEFLATE, 0, 2 ** 30, 0, new Uint8Array(8)], zeros));
  assert.equal(isCodecError(lie) && lie.error, 'too-large');
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 500, 'refusing took too long');
  assert.ok(process.memoryUsage().rss - rss0 < 48 * 1024 * 1024, 'refusing allocated what the peer declared');
  assert.equal((decodeBundle(base([BodyCodec.STORED, 0, 3, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))) as { error: string }).error, 'hash-mismatch');
  assert.equal((decodeBundle(base([BodyCodec.STORED, 9, 3, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))) as { error: string }).error, 'unknown-dictionary');
  assert.equal((decodeBundle(base([BodyCodec.STORED, 0, 4, 0, new Uint8Array(8)], Uint8Array.of(1, 2, 3))) as { error: string }).error, 'length-mismatch');
  assert.equal((decodeBundle(enc.encode([3, [12, 0, null]])) as { error: string }).error, 'schema');
  assert.equal((decodeBundle(base([BodyCodec.STORED, 0, 0, 1 << 20, new Uint8Array(8)], new Uint8Array(0))) as { error: string }).error, 'too-large');
});

test('every truncation and random bytes give an error value, never a throw', () => {
  const good = encodeBundle({ id: 'x', priority: { value: 4, source: 'mt-priority', requested: 4 }, sender: 'a@b', params: { smtputf8: false, envid: 'E' }, recipients: [{ address: 'c@d', notify: ['SUCCESS'] }], receivedAt: 5, content: mail }, 1);
  for (let n = 0; n < good.length; n++) assert.ok(isCodecError(decodeBundle(good.subarray(0, n))), `prefix ${n}`);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
      const r = decodeBundle(junk);
      assert.ok(isCodecError(r) || typeof r.id === 'string');
    }),
    { numRuns: 500 },
  );
});
