// KISS and link frames: round trips, any chunking, single bit flips, garbage, forged and oversized frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { encodeKiss, KissDecoder, KISS } from '../src/codec/kiss.ts';
import {
  decodeHello,
  decodeSession,
  encodeHello,
  encodeSession,
  FrameType,
  isFrameError,
  MIN_FRAME,
  PROTOCOL_VERSION,
  RecordKind,
  type SessionFrame,
} from '../src/codec/link-frame.ts';

const KEY = new Uint8Array(32).fill(7);
const payload = fc.uint8Array({ minLength: 1, maxLength: 300 });

function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

test('KISS: any frames, any chunking, with noise before and between: the same frames come out', () => {
  fc.assert(
    fc.property(fc.array(payload, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), fc.uint8Array({ maxLength: 20 }), (frames, cuts, noise) => {
      const clean = noise.filter((b) => b !== KISS.FEND);
      const wire = Buffer.concat([clean, ...frames.map((f) => encodeKiss(f))]);
      const dec = new KissDecoder(512);
      const got = chunked(wire, cuts).flatMap((c) => dec.push(c));
      assert.deepEqual(got.map((f) => Buffer.from(f.payload).toString('hex')), frames.map((f) => Buffer.from(f).toString('hex')));
    }),
    { numRuns: 300 },
  );
});

test('KISS: a bad escape or an over-long frame drops that frame only; the decoder resynchronises', () => {
  const dec = new KissDecoder(16);
  const bad = Uint8Array.from([KISS.FEND, 0, 1, KISS.FESC, 0x42, 2, KISS.FEND]);
  const long = encodeKiss(new Uint8Array(40).fill(1));
  const good = encodeKiss(Uint8Array.from([9, 9, 9]));
  const got = [...dec.push(bad), ...dec.push(long), ...dec.push(good)];
  assert.deepEqual(got.map((f) => [...f.payload]), [[9, 9, 9]]);
  assert.equal(dec.stats.dropped, 2);
});

const record = fc.oneof(
  fc.record({ kind: fc.constant(RecordKind.DATA), xfer: fc.nat(0xffff), offset: fc.nat(1e9), data: fc.uint8Array({ maxLength: 256 }) }),
  fc.record({ kind: fc.constant(RecordKind.OPEN), xfer: fc.nat(0xffff), total: fc.nat(1e9), id: fc.string({ minLength: 1, maxLength: 40 }), hash: fc.uint8Array({ minLength: 8, maxLength: 8 }), ageMs: fc.nat(1e9), deadlineMs: fc.nat(4e9), offset: fc.nat(1e6), data: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant(RecordKind.CANCEL), id: fc.string({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant(RecordKind.CANCELLED), id: fc.string({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant(RecordKind.REFUSE), id: fc.string({ minLength: 1, maxLength: 40 }), status: fc.constantFrom('5.3.4', '4.3.0', '5.6.5', '5.4.7'), text: fc.string({ maxLength: 80 }) }),
  fc.record({ kind: fc.constant(RecordKind.RESUME), xfer: fc.nat(0xffff), offset: fc.nat(1e9) }),
);
const sessionFrame: fc.Arbitrary<SessionFrame> = fc.oneof(
  fc.record({ type: fc.constant(FrameType.RECORD), seq: fc.nat(0xffff), record }),
  fc.record({ type: fc.constant(FrameType.CTRL), ack: fc.nat(0xffff), bitmap: fc.uint8Array({ maxLength: 64 }), flags: fc.nat(3), over: fc.nat(255), echo: fc.nat(255) }),
  fc
    .array(fc.tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.nat({ max: 1 << 30 }), fc.option(fc.nat({ max: 0xffff }), { nil: undefined })), { maxLength: 8 })
    .map((es) => ({ type: FrameType.CUSTODY, entries: es.map(([id, slot, xfer]) => (xfer === undefined ? { slot, id } : { slot, xfer })) })),
  fc.record({ type: fc.constant(FrameType.AUTH), proof: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
) as fc.Arbitrary<SessionFrame>;

test('session frames: round trip, and any single flipped bit is caught by the MAC', () => {
  fc.assert(
    fc.property(sessionFrame, fc.nat(), (f, bit) => {
      const bytes = encodeSession(f, KEY);
      const back = decodeSession(bytes, KEY, 1024);
      assert.ok(!isFrameError(back), JSON.stringify(back));
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(f)));
      const flipped = Uint8Array.from(bytes);
      const i = bit % (bytes.length * 8);
      flipped[i >> 3]! ^= 1 << (i & 7);
      const r = decodeSession(flipped, KEY, 1024);
      assert.ok(isFrameError(r), 'a flipped bit was accepted');
    }),
    { numRuns: 400 },
  );
});

test('session frames under another key (another session) are rejected; truncations and garbage never throw', () => {
  const other = new Uint8Array(32).fill(8);
  fc.assert(
    fc.property(sessionFrame, fc.uint8Array({ maxLength: 300 }), (f, junk) => {
      const bytes = encodeSession(f, KEY);
      assert.equal((decodeSession(bytes, other, 1024) as { error: string }).error, 'check');
      for (let n = 0; n < bytes.length; n++) assert.ok(isFrameError(decodeSession(bytes.subarray(0, n), KEY, 1024)));
      assert.ok(isFrameError(decodeSession(junk, KEY, 1024)));
      assert.doesNotThrow(() => decodeHello(junk));
    }),
    { numRuns: 150 },
  );
});

test('every frame type is at least 15 bytes before KISS (TNCs such as Direwolf drop shorter ones), padded and still decoded', () => {
  const hello = { type: FrameType.HELLO, version: PROTOCOL_VERSION, station: 'a', nonce: new Uint8Array(16), caps: { maxFrame: 32, window: 1, dictionaries: [] } } as const;
  const smallest: SessionFrame[] = [
    { type: FrameType.AUTH, proof: new Uint8Array(16) },
    { type: FrameType.CTRL, ack: 0, bitmap: new Uint8Array(0), flags: 0, over: 0, echo: 0 },
    { type: FrameType.CUSTODY, entries: [] },
    { type: FrameType.CUSTODY, entries: [{ slot: 0, id: 'x' }] },
    { type: FrameType.CUSTODY, entries: [{ slot: 1, xfer: 0 }] },
    { type: FrameType.RECORD, seq: 0, record: { kind: RecordKind.DATA, xfer: 0, offset: 0, data: new Uint8Array(0) } },
    { type: FrameType.RECORD, seq: 0, record: { kind: RecordKind.OPEN, xfer: 0, total: 0, id: 'x', hash: new Uint8Array(8), ageMs: 0, deadlineMs: 0, offset: 0, data: new Uint8Array(0) } },
    { type: FrameType.RECORD, seq: 0, record: { kind: RecordKind.CANCEL, id: 'x' } },
    { type: FrameType.RECORD, seq: 0, record: { kind: RecordKind.CANCELLED, id: 'x' } },
    { type: FrameType.RECORD, seq: 0, record: { kind: RecordKind.RESUME, xfer: 0, offset: 0 } },
    { type: FrameType.RECORD, seq: 0, record: { kind: RecordKind.REFUSE, id: 'x', status: '5.3.4', text: '' } },
  ];
  const kinds = new Set<string>();
  for (const f of smallest) {
    const bytes = encodeSession(f, KEY);
    assert.ok(bytes.length >= MIN_FRAME, `${JSON.stringify(f)}: ${bytes.length} bytes`);
    assert.deepEqual(JSON.parse(JSON.stringify(decodeSession(bytes, KEY, 1024))), JSON.parse(JSON.stringify(f)));
    kinds.add(f.type === FrameType.RECORD ? `r${f.record.kind}` : `f${f.type}`);
  }
  assert.ok(encodeHello(hello).length >= MIN_FRAME);
  // Every frame type and record kind the protocol has is in the list above.
  const all = [...Object.values(FrameType).filter((t) => t !== FrameType.RECORD && t !== FrameType.HELLO && t !== FrameType.HELLO_REPLY).map((t) => `f${t}`), ...Object.values(RecordKind).map((k) => `r${k}`)];
  assert.deepEqual([...kinds].sort(), all.sort());
  // Padding is zeros only: other trailing bytes in a short frame are refused.
  const ctrl = encodeSession(smallest[1]!, KEY);
  const body = Uint8Array.from(ctrl.subarray(0, ctrl.length - 8));
  body[body.length - 1] = 1;
  const forged = Buffer.concat([body, createHmac('sha256', KEY).update(body).digest().subarray(0, 8)]);
  assert.equal((decodeSession(forged, KEY, 1024) as { error: string }).error, 'malformed');
});

test('hello frames: round trip, CRC catches damage, oversized data segments are refused', () => {
  const h = { type: FrameType.HELLO_REPLY, version: 1, station: 'bravo', nonce: new Uint8Array(16).fill(3), caps: { maxFrame: 256, window: 64, dictionaries: [0, 1] }, proof: new Uint8Array(16).fill(4) } as const;
  const bytes = encodeHello(h);
  assert.deepEqual(JSON.parse(JSON.stringify(decodeHello(bytes))), JSON.parse(JSON.stringify(h)));
  const bad = Uint8Array.from(bytes);
  bad[5]! ^= 0x10;
  assert.equal((decodeHello(bad) as { error: string }).error, 'check');
  const big = encodeSession({ type: FrameType.RECORD, seq: 1, record: { kind: RecordKind.DATA, xfer: 1, offset: 0, data: new Uint8Array(2000) } }, KEY);
  assert.equal((decodeSession(big, KEY, 1024) as { error: string }).error, 'malformed');
});

test('message ids: a queue id of ours travels packed in 13 bytes, any other id as text; a packed id with stray bits is malformed', () => {
  const ours = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{20}$/);
  const open = (id: string) => ({ type: FrameType.RECORD, seq: 1, record: { kind: RecordKind.OPEN, xfer: 3, total: 100, id, hash: new Uint8Array(8).fill(1), ageMs: 5, deadlineMs: 0, offset: 0, data: new Uint8Array(40) } }) as const;
  fc.assert(
    fc.property(ours, (id) => {
      const packed = encodeSession(open(id), KEY);
      const back = decodeSession(packed, KEY, 1024);
      assert.ok(!isFrameError(back) && back.type === FrameType.RECORD && back.record.kind === RecordKind.OPEN && back.record.id === id);
      // The same id in lower case is not ours: it goes as text, 7 bytes longer (1 + 20 against 1 + 13).
      const lower = `${id.toLowerCase().slice(0, 19)}x`;
      assert.equal(encodeSession(open(lower), KEY).length, packed.length + 7);
      for (const e of [{ slot: 2, id }, { slot: 0, id: lower }]) {
        const c = decodeSession(encodeSession({ type: FrameType.CUSTODY, entries: [e] }, KEY), KEY, 1024);
        assert.ok(!isFrameError(c) && c.type === FrameType.CUSTODY);
        assert.deepEqual(c.entries, [e]);
      }
    }),
    { seed: 3, numRuns: 200 },
  );
  // The 100 bits of an id leave the last 4 bits of its 13 bytes zero: a frame that sets them is refused.
  const frame = encodeSession({ type: FrameType.RECORD, seq: 1, record: { kind: RecordKind.CANCEL, id: '01M8R90DEHDBTB3DAW20' } }, KEY);
  const body = Uint8Array.from(frame.subarray(0, frame.length - 8));
  body[4 + 1 + 12]! |= 0x01; // type, seq (2), kind, the zero length, then the 13th byte
  const forged = Buffer.concat([body, createHmac('sha256', KEY).update(body).digest().subarray(0, 8)]);
  assert.ok(isFrameError(decodeSession(forged, KEY, 1024)));
  assert.throws(() => encodeSession({ type: FrameType.RECORD, seq: 1, record: { kind: RecordKind.CANCEL, id: '' } }, KEY), /empty message id/);
});
