// What `hfmail status` says about a link, in virtual time: a transfer that stops moving is stalled (no ETA), loss
// only once measured, and "no answer" is not "wrong key".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderStatus } from '../src/cli/status-command.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { MemoryOutbound, MemoryProgressStore } from '../src/link/contracts.ts';
import type { LinkOptions } from '../src/link/link-options.ts';
import { TestClock, testRandom, wire } from './support/mini-sim.ts';

const KEY = new TextEncoder().encode('a shared key for alpha and bravo');
const BASE = { key: KEY, duplex: 'half', bitRate: 2400, turnaroundMs: 500, maxFrame: 256, window: 8, maxOverMs: 10_000 } as const;

function station(clock: TestClock, port: ReturnType<typeof wire>['a'], name: 'alpha' | 'bravo', over: Partial<LinkOptions> = {}) {
  const out = new MemoryOutbound();
  const events: LinkEvent[] = [];
  const got = new Set<string>();
  const st = new LinkStation(
    { ...BASE, station: name, peer: name === 'alpha' ? 'bravo' : 'alpha', role: name === 'alpha' ? 'caller' : 'answerer', ...over },
    { clock, random: testRandom(name.length), port, source: out, sink: { accept: async (id) => void got.add(id) }, progress: new MemoryProgressStore(), onEvent: (e) => events.push(e) },
  );
  out.onAdd(() => st.notify());
  return { st, out, events, got };
}

function noise(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

/** The status report the CLI renders, with this link's snapshot. */
const report = (link: Record<string, unknown>) => renderStatus({ station: 'alpha', running: true, pid: 1, updatedAt: null, links: [link], queue: { total: 1, byPriority: {} } });

test('a transfer that stops moving is shown as stalled, without an ETA; loss appears only once measured', async () => {
  const clock = new TestClock();
  let cut = false;
  const w = wire(clock, 2400, 500, (b) => (cut ? null : b));
  const alpha = station(clock, w.a, 'alpha');
  const bravo = station(clock, w.b, 'bravo');
  alpha.out.add({ id: 'big', priority: 0, queuedAt: clock.now(), bundle: noise(40_000) });
  alpha.st.start();
  bravo.st.start();
  // The gateway takes a snapshot every 2 s; so does this test.
  const snaps: ReturnType<LinkStation['snapshot']>[] = [];
  const tick = () => {
    snaps.push(alpha.st.snapshot());
    clock.setTimer(2000, tick);
  };
  tick();
  const before = alpha.st.snapshot();
  assert.equal(before.lossRate, null, 'no loss shown before any record was judged');
  await clock.run(clock.now() + 30_000);
  const moving = alpha.st.snapshot();
  assert.ok(moving.up && moving.current && moving.current.sent > 0 && moving.current.sent < moving.current.total, JSON.stringify(moving));
  assert.equal(moving.current.stalledSeconds, null);
  assert.ok(typeof moving.current.etaSeconds === 'number' && moving.current.etaSeconds > 0);
  assert.equal(moving.lossRate, 0, 'measured: nothing lost');
  assert.match(report(moving), /about \d+ s left/);

  cut = true; // the radio goes silent both ways
  await clock.run(clock.now() + 5 * 60_000);
  const stuck = alpha.st.snapshot();
  assert.ok(stuck.current && stuck.current.sent < stuck.current.total);
  assert.ok(stuck.current.stalledSeconds !== null && stuck.current.stalledSeconds >= 60, JSON.stringify(stuck.current));
  assert.equal(stuck.current.etaSeconds, null);
  const text = report(stuck);
  assert.match(text, /stalled: no progress for \d+ s/);
  assert.doesNotMatch(text, /left/);
  alpha.st.stop();
  bravo.st.stop();
});

test('status names the trouble: a silent peer is "no answer", a peer with another key "wrong key" (and "key not proved" at the answerer)', async () => {
  const clock = new TestClock();
  const silent = wire(clock, 2400, 500, () => null);
  const alone = station(clock, silent.a, 'alpha');
  alone.out.add({ id: 'm', priority: 0, queuedAt: clock.now(), bundle: noise(500) });
  alone.st.start();
  await clock.run(clock.now() + 10 * 60_000);
  const s1 = alone.st.snapshot();
  assert.equal(s1.problemKind, 'no-answer');
  assert.match(report(s1), /^link to bravo: down: no answer \(calling: no answer from bravo/m);
  alone.st.stop();

  const w = wire(clock, 2400, 500);
  const alpha = station(clock, w.a, 'alpha');
  const bravo = station(clock, w.b, 'bravo', { key: new TextEncoder().encode('bravo was given another key') });
  alpha.out.add({ id: 'm', priority: 0, queuedAt: clock.now(), bundle: noise(500) });
  alpha.st.start();
  bravo.st.start();
  await clock.run(clock.now() + 10 * 60_000);
  assert.equal(alpha.st.snapshot().problemKind, 'wrong-key');
  assert.match(report(alpha.st.snapshot()), /^link to bravo: down: wrong key \(calling: bravo could not prove the shared key\)/m);
  assert.equal(bravo.st.snapshot().problemKind, 'unproven');
  assert.doesNotMatch(report(alpha.st.snapshot()), /no answer/);
  alpha.st.stop();
  bravo.st.stop();
});

test('a modem that takes the over ahead (txAheadMs) gets each over in one piece, and the sender is deaf until it has left the air', async () => {
  const clock = new TestClock();
  const w = wire(clock, 1200, 400);
  const writes: number[] = [];
  const write = w.a.write.bind(w.a);
  w.a.write = (d) => {
    writes.push(clock.now());
    write(d);
  };
  const over = { bitRate: 1200, turnaroundMs: 400, maxFrame: 256, window: 32, maxOverMs: 20_000, txAheadMs: 30_000, air: { framing: 'hdlc', tailMs: 100 } } as const;
  const alpha = station(clock, w.a, 'alpha', over);
  const bravo = station(clock, w.b, 'bravo', over);
  alpha.st.start();
  bravo.st.start();
  await clock.run(clock.now() + 20_000);
  assert.ok(alpha.st.isUp && bravo.st.isUp);
  writes.length = 0;
  const t0 = clock.now();
  alpha.out.add({ id: 'big', priority: 0, queuedAt: t0, bundle: noise(6000) });
  await clock.run(t0 + 200);
  // About 20 s of frames, all written at one instant: the TNC keys up once for the over.
  assert.ok(writes.length >= 10, `${writes.length} frames`);
  assert.equal(new Set(writes).size, 1, `written at ${[...new Set(writes)].map((t) => t - t0).join(', ')} ms`);
  // Bytes heard while the over is still on the air (a collision) are not taken for its answer.
  const before = alpha.st.stats.framesIn;
  w.a.deliver(Uint8Array.of(0xc0, 0x00, 1, 2, 3, 0xc0));
  assert.equal(alpha.st.stats.framesIn, before, 'a frame was heard while transmitting');
  await clock.run(clock.now() + 10 * 60_000);
  assert.ok(bravo.got.has('big'), 'the message did not cross');
  assert.equal(alpha.st.sender.stats.retransmissions, 0);
  alpha.st.stop();
  bravo.st.stop();
});
