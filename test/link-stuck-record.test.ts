// A peer that answers every over but never takes one particular record (its receiver and our sender disagree
// about the session's records, however that came about) must not hold the link forever: after a record has
// been judged lost twelve times, the sender renews the session, and the message crosses once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeKiss, KissDecoder } from '../src/codec/kiss.ts';
import { FrameType, PROTOCOL_VERSION, RecordKind } from '../src/codec/link-frame.ts';
import { MemoryOutbound, MemoryProgressStore, type LinkPort } from '../src/link/index.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

const KEY = new TextEncoder().encode('the key alpha and bravo share, 32');
const LINK = { key: KEY, duplex: 'half', bitRate: 2400, turnaroundMs: 500, latencyMs: 30, maxFrame: 256, window: 32, maxOverMs: 10_000 } as const;
const RECORD = (PROTOCOL_VERSION << 4) | FrameType.RECORD;

test('a record the answering peer never takes: after twelve losses the session is renewed, and the message crosses once', async () => {
  const clock = new VirtualClock();
  const rng = new SeededRandom(12);
  const channel = createChannel({ bitRate: LINK.bitRate, duplex: 'half', turnaroundMs: LINK.turnaroundMs, propagationMs: 10 }, clock, rng.fork());
  const events: LinkEvent[] = [];
  let ups = 0;
  let dropped = 0;
  // Bravo's ears: in the first session, every DATA record of alpha's first transfer is lost (its OPEN is not).
  const kiss = new KissDecoder(1 << 16);
  const toBravo: LinkPort = {
    write: (d) => channel.b.write(d),
    onData: (l) =>
      channel.b.onData((d) => {
        for (const f of kiss.push(d)) {
          const p = f.payload;
          const lose = ups < 2 && p[0] === RECORD && p[3] === RecordKind.DATA && p[4] === 0 && p[5] === 0;
          if (lose) dropped++;
          else l(encodeKiss(p));
        }
      }),
    onClose: (l) => channel.b.onClose(l),
    close: () => channel.b.close(),
  };
  const out = new MemoryOutbound();
  const got: string[] = [];
  const alpha = new LinkStation({ ...LINK, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: rng.fork(), port: channel.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore(), onEvent: (e) => (events.push(e), e.type === 'up' && ups++) });
  const bravo = new LinkStation({ ...LINK, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: rng.fork(), port: toBravo, source: new MemoryOutbound(), sink: { accept: async (id) => void got.push(id) }, progress: new MemoryProgressStore() });
  out.onAdd(() => alpha.notify());
  out.add({ id: 'm1', priority: 0, queuedAt: 0, bundle: rng.bytes(600) });
  alpha.start();
  bravo.start();
  const end = clock.now() + 3_600_000;
  while (out.confirmed.length < 1 && clock.now() < end) await clock.runUntil(clock.now() + 5000, 20_000);
  alpha.stop();
  bravo.stop();
  assert.ok(dropped >= 12, `${dropped} frames lost`);
  assert.ok(events.some((e) => e.type === 'error' && /renewing the session/.test(e.detail)), 'the session was renewed');
  assert.equal(ups, 2);
  assert.deepEqual(out.confirmed, ['m1']);
  assert.deepEqual(got, ['m1']);
});
