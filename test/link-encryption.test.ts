// Encryption for links whose licence allows it: session frames sealed with AES-256-GCM under per-direction keys
// of the session (a counter in the nonce, the tag in place of the MAC); a message crosses and its bytes never
// appear on the air; stations that disagree never share a session; amateur-radio profiles refuse the option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSession, encodeSession, FrameType, isFrameError, MIN_FRAME, RecordKind, SealingKey, type SessionFrame } from '../src/codec/link-frame.ts';
import { ConfigError, shippedProfiles } from '../src/gateway/index.ts';
import { linkEncryption } from '../src/gateway/link-keys.ts';
import { MemoryOutbound, MemoryProgressStore } from '../src/link/contracts.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { TestClock, testRandom, wire } from './support/mini-sim.ts';

const K = (b: number) => new Uint8Array(32).fill(b);
const SALT = new Uint8Array(8).fill(9);

test('sealed frames: every type round-trips, the shortest is padded to 15 bytes, the same frame sealed twice differs, any change or another key fails', () => {
  const frames: SessionFrame[] = [
    { type: FrameType.AUTH, proof: new Uint8Array(16).fill(3) },
    { type: FrameType.CTRL, ack: 7, bitmap: new Uint8Array(0), flags: 1, over: 2, echo: 1 },
    { type: FrameType.CUSTODY, entries: [{ slot: 1, id: 'm1' }, { slot: 0, xfer: 7 }] },
    { type: FrameType.RECORD, seq: 5, record: { kind: RecordKind.RESUME, xfer: 1, offset: 0 } },
    { type: FrameType.RECORD, seq: 6, record: { kind: RecordKind.DATA, xfer: 1, offset: 100, data: new Uint8Array(200).fill(0x41) } },
    { type: FrameType.RECORD, seq: 7, record: { kind: RecordKind.REFUSE, id: 'm3', status: '5.3.4', text: 'too big' } },
  ];
  const send = new SealingKey(K(1), SALT);
  const receive = new SealingKey(K(1), SALT);
  for (const f of frames) {
    const a = encodeSession(f, send);
    const b = encodeSession(f, send);
    assert.ok(a.length >= MIN_FRAME);
    assert.notDeepEqual(a, b, 'a fresh nonce each time');
    assert.deepEqual(decodeSession(a, receive, 1024), decodeSession(b, receive, 1024));
    const d = decodeSession(a, receive, 1024);
    assert.ok(!isFrameError(d), JSON.stringify(d));
    assert.equal(d.type, f.type);
    for (let i = 0; i < a.length; i++) {
      const t = Uint8Array.from(a);
      t[i]! ^= 0x10;
      assert.ok(isFrameError(decodeSession(t, receive, 1024)), `byte ${i} changed`);
    }
    assert.ok(isFrameError(decodeSession(a, new SealingKey(K(2), SALT), 1024)));
    assert.ok(isFrameError(decodeSession(a, K(1), 1024)), 'a sealed frame is no MAC frame');
  }
  const data = encodeSession(frames[4]!, send);
  assert.equal(Buffer.from(data).indexOf(Buffer.alloc(16, 0x41)), -1, 'the data is not in the frame');
});

async function pair(alphaEncrypts: boolean, bravoEncrypts: boolean) {
  const clock = new TestClock();
  const heard: Uint8Array[] = [];
  const w = wire(clock, 9600, 200, (b) => (heard.push(b), b));
  const base = { key: new TextEncoder().encode('a shared key for alpha and bravo'), duplex: 'half', bitRate: 9600, turnaroundMs: 200, maxFrame: 256, window: 32, maxOverMs: 5000 } as const;
  const out = new MemoryOutbound();
  const got = new Map<string, Uint8Array>();
  const events: LinkEvent[] = [];
  const alpha = new LinkStation({ ...base, encrypt: alphaEncrypts, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: testRandom(1), port: w.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore(), onEvent: (e) => events.push(e) });
  const bravo = new LinkStation({ ...base, encrypt: bravoEncrypts, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: testRandom(2), port: w.b, source: new MemoryOutbound(), sink: { accept: async (id, b) => void got.set(id, b) }, progress: new MemoryProgressStore() });
  out.onAdd(() => alpha.notify());
  const secret = Buffer.from('Subject: the plan\r\n\r\nMeet at the north ridge at dawn.\r\n'.repeat(20));
  out.add({ id: 'm1', priority: 0, queuedAt: clock.now(), bundle: secret });
  alpha.start();
  bravo.start();
  await clock.run(clock.now() + 5 * 60_000);
  alpha.stop();
  bravo.stop();
  return { got, confirmed: out.confirmed, events, air: Buffer.concat(heard), secret };
}

test('two stations that encrypt: the message crosses whole, and nothing of it is heard on the air (without encryption it is)', async () => {
  const sealed = await pair(true, true);
  assert.deepEqual(sealed.confirmed, ['m1']);
  assert.deepEqual(Buffer.from(sealed.got.get('m1')!), sealed.secret);
  assert.equal(sealed.air.indexOf('north ridge'), -1);
  const clear = await pair(false, false);
  assert.deepEqual(clear.confirmed, ['m1']);
  assert.ok(clear.air.indexOf('north ridge') >= 0, 'the control: in clear it is heard');
});

test('stations that disagree about encryption never share a session, and the caller says the key could not be proved', async () => {
  for (const [a, b] of [[true, false], [false, true]] as const) {
    const r = await pair(a, b);
    assert.deepEqual(r.confirmed, []);
    assert.equal(r.got.size, 0);
    assert.ok(!r.events.some((e) => e.type === 'up'));
    assert.ok(r.events.some((e) => e.type === 'auth-failed'));
  }
});

test('amateur-radio profiles forbid encryption: asking for it is a configuration error; profiles that allow it take it', () => {
  const profiles = shippedProfiles();
  const afsk = profiles.get('direwolf-afsk1200')!;
  const stanag = profiles.get('stanag4539-2400')!;
  assert.equal(afsk.encryption, 'forbidden');
  assert.equal(stanag.encryption, 'allowed');
  assert.throws(() => linkEncryption({ peer: 'bravo', encrypt: true }, afsk), (err: unknown) => err instanceof ConfigError && /forbids encryption/.test(err.message));
  assert.equal(linkEncryption({ peer: 'bravo', encrypt: false }, afsk), false);
  assert.equal(linkEncryption({ peer: 'bravo' }, stanag), false);
  assert.equal(linkEncryption({ peer: 'bravo', encrypt: true }, stanag), true);
});
