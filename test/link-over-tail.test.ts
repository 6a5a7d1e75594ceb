// The end of a transfer: an over runs a little long to empty the queue instead of costing another exchange (two
// LinkStations over the simulated radio in virtual time), and a short burst of loss judged after the custody of
// the messages around it does not shrink a clean link's frames (the sender alone).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryOutbound, MemoryProgressStore, type LinkPort } from '../src/link/index.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import * as senderModule from '../src/link/sender.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

const KEY = new TextEncoder().encode('the key alpha and bravo share, 32');
const LINK = { key: KEY, duplex: 'half', bitRate: 2400, turnaroundMs: 1500, latencyMs: 30, maxFrame: 256, window: 128, maxOverMs: 30_000 } as const;

/** Alpha sends `sizes` (bytes of bundle each). */
async function run(sizes: readonly number[]) {
  const clock = new VirtualClock();
  const rng = new SeededRandom(9);
  const channel = createChannel({ bitRate: LINK.bitRate, duplex: 'half', turnaroundMs: LINK.turnaroundMs, propagationMs: 10 }, clock, rng.fork());
  const events: { at: number; e: LinkEvent }[] = [];
  const port: LinkPort = channel.b;
  const out = new MemoryOutbound();
  const alpha = new LinkStation({ ...LINK, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: rng.fork(), port: channel.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore(), onEvent: (e) => events.push({ at: clock.now(), e }) });
  const bravo = new LinkStation({ ...LINK, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: rng.fork(), port, source: new MemoryOutbound(), sink: { accept: async () => undefined }, progress: new MemoryProgressStore() });
  out.onAdd(() => alpha.notify());
  alpha.start();
  bravo.start();
  const end = clock.now() + 3_600_000;
  // First a few short messages, so that the channel is measured (an over runs long only on a channel known clean).
  for (let i = 0; i < 8; i++) out.add({ id: `w${i}`, priority: 0, queuedAt: i, bundle: rng.bytes(200) });
  while (out.confirmed.length < 8 && clock.now() < end) await clock.runUntil(clock.now() + 5000, 20_000);
  assert.equal(out.confirmed.length, 8);
  events.length = 0;
  sizes.forEach((n, i) => out.add({ id: `m${i}`, priority: 0, queuedAt: 100 + i, bundle: rng.bytes(n) }));
  while (out.confirmed.length < 8 + sizes.length && clock.now() < end) await clock.runUntil(clock.now() + 5000, 20_000);
  alpha.stop();
  bravo.stop();
  assert.equal(out.confirmed.length, 8 + sizes.length);
  const overs = events.filter((x) => x.e.type === 'over').map((x) => x.e as Extract<LinkEvent, { type: 'over' }>);
  const segments = events.filter((x) => x.e.type === 'segment').map((x) => (x.e as Extract<LinkEvent, { type: 'segment' }>).bytes);
  return { overs, segments, seconds: (clock.now() - end + 3_600_000) / 1000 };
}

/** Airtime of `n` bytes of bundle in full frames at 2400 bit/s (256 bytes of data and 20 of framing each). */
const airMs = (n: number) => (Math.ceil(n / 256) * 276 * 8 * 1000) / 2400;

test('on a channel measured clean, an over runs up to a quarter long to send everything that is left, and no longer', async () => {
  // Just over the 30 s budget: sent in one over of data, not two.
  const fits = await run(Array.from({ length: 8 }, () => 1100));
  assert.ok(airMs(8 * 1100) > 30_000 && airMs(8 * 1100) < 1.2 * 30_000);
  const dataOvers = fits.overs.filter((o) => o.frames > 3);
  assert.equal(dataOvers.length, 1, JSON.stringify(fits.overs));
  assert.ok(dataOvers[0]!.airMs <= 1.25 * 30_000 + 1000, `over of ${dataOvers[0]!.airMs} ms`);
  // Far over it: the over stops near the budget, and the rest follows in the next one.
  const more = await run(Array.from({ length: 12 }, () => 1100));
  const overs = more.overs.filter((o) => o.frames > 3);
  assert.equal(overs.length, 2, JSON.stringify(more.overs));
  assert.ok(overs[0]!.airMs <= 1.15 * 30_000 + 1000, `first over of ${overs[0]!.airMs} ms`);
});

test('records emptied because their message is in custody are weighed as they went on the air when their over is judged', () => {
  const { Sender } = senderModule;
  const s = new Sender('bravo', new MemoryProgressStore(), 'priority', { maxFrame: 256, window: 128, dictionaries: [0] }, () => 0);
  s.reset({ maxFrame: 256, window: 128, dictionaries: [0] });
  const rng = new SeededRandom(3);
  s.add(Array.from({ length: 10 }, (_, i) => ({ id: `m${i}`, priority: 0, queuedAt: i, bundle: rng.bytes(900) })));
  const sent: { seq: number; id?: string }[] = [];
  for (let r = s.next(); r; r = s.next()) sent.push(r);
  assert.ok(sent.length >= 36, `${sent.length} records`);
  s.endOver();
  // The peer lost two records back to back (a collision) and, before its acknowledgement, confirmed custody of
  // every message those two were not part of: their records are emptied before the over is judged.
  const lost = [sent[11]!, sent[12]!];
  const hit = new Set(lost.map((x) => x.id));
  for (let i = 0; i < 10; i++) if (!hit.has(`m${i}`)) s.custody(`m${i}`);
  const bitmap = new Uint8Array(Math.ceil((sent.length - 12) / 8));
  for (let seq = 13; seq < sent.length; seq++) bitmap[(seq - 12) >> 3]! |= 1 << ((seq - 12) & 7);
  s.onAck(11, bitmap, 0);
  assert.equal(s.frameSize, 256, `frames of ${s.frameSize} bytes after two of ${sent.length} were lost`);
});
