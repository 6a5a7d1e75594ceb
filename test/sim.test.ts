// The simulator itself (clock, channel, errors, fades) and scenario runs in virtual time; failures print the seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createChannel } from '../sim/channel.ts';
import { runScenario, runScenarioFile } from '../sim/run-scenario.ts';
import { parseScenario } from '../sim/scenario.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { simBundle } from '../sim/sim-bundle.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

const scenario = (name: string) => fileURLToPath(new URL(`../sim/scenarios/${name}.yaml`, import.meta.url));

test('virtual clock: time order, ties in order of setting, cancel', async () => {
  const c = new VirtualClock(0);
  const seen: string[] = [];
  c.setTimer(20, () => seen.push('b'));
  c.setTimer(10, () => seen.push('a'));
  c.setTimer(20, () => seen.push('c'));
  const x = c.setTimer(15, () => seen.push('x'));
  x.cancel();
  c.setTimer(5, () => c.setTimer(0, () => seen.push('a0')));
  await c.runUntil(100);
  assert.deepEqual(seen, ['a0', 'a', 'b', 'c']);
  assert.equal(c.now(), 100);
});

test('channel timing: airtime at the bit rate, turnaround once per key-up, propagation', async () => {
  const clock = new VirtualClock(0);
  const { a, b } = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500, propagationMs: 10 }, clock, new SeededRandom(1));
  const arrivals: number[] = [];
  b.onData(() => arrivals.push(clock.now()));
  a.write(new Uint8Array(300)); // 1000 ms of air after 1500 ms of key-up
  clock.setTimer(500, () => a.write(new Uint8Array(300))); // still keyed: follows back to back
  await clock.runUntil(10_000);
  assert.deepEqual(arrivals, [2510, 3510]);
  assert.equal(a.stats.keyUps, 1);
  a.write(new Uint8Array(30)); // idle since 3500: a new key-up
  await clock.runUntil(20_000);
  assert.equal(arrivals[2], 10_000 + 1500 + 100 + 10);
  assert.equal(a.stats.keyUps, 2);
});

test('channel: both on the air at once destroys the overlapping bytes; fades swallow what they cover', async () => {
  const clock = new VirtualClock(0);
  const { a, b } = createChannel({ bitRate: 8000, duplex: 'half', turnaroundMs: 0, propagationMs: 0, outages: [{ atMs: 2000, durationMs: 500 }] }, clock, new SeededRandom(1));
  let atB = 0;
  b.onData((c) => (atB += c.length));
  a.write(new Uint8Array(1000)); // 0..1000 ms
  clock.setTimer(500, () => b.write(new Uint8Array(100))); // 500..600 ms: b is deaf then, and a's bytes there are lost
  await clock.runUntil(1500);
  assert.equal(a.stats.collidedBytes, 100);
  assert.equal(atB, 900);
  clock.setTimer(400, () => a.write(new Uint8Array(1000))); // 1900..2900, 2000..2500 faded
  await clock.runUntil(5000);
  assert.equal(a.stats.bytesLostToOutage, 500);
  assert.equal(atB, 900 + 500);
});

test('bit errors: about BER x bits, bursts cluster, the same seed gives the same errors', async () => {
  const run = async (seed: number, ber: number | { good: number; bad: number; meanGoodBits: number; meanBadBits: number }) => {
    const clock = new VirtualClock(0);
    const { a, b } = createChannel({ bitRate: 1e6, duplex: 'full', turnaroundMs: 0, ber }, clock, new SeededRandom(seed));
    const got: number[] = [];
    b.onData((c) => got.push(...c));
    for (let i = 0; i < 125; i++) a.write(new Uint8Array(1000)); // 1e6 bits of zeros
    await clock.runUntil(60_000);
    return { flips: a.stats.bitErrors, got };
  };
  const r1 = await run(11, 1e-3);
  assert.ok(r1.flips > 850 && r1.flips < 1150, `seed 11: ${r1.flips} flips for 1e6 bits at 1e-3`);
  assert.deepEqual((await run(11, 1e-3)).got, r1.got);
  assert.notDeepEqual((await run(12, 1e-3)).got, r1.got);
  const bursty = await run(13, { good: 1e-5, bad: 1e-2, meanGoodBits: 50_000, meanBadBits: 5000 });
  const perBlock: number[] = [];
  for (let i = 0; i < bursty.got.length; i += 125) perBlock.push(bursty.got.slice(i, i + 125).reduce((s, v) => s + (v ? 1 : 0), 0));
  const mean = perBlock.reduce((s, v) => s + v, 0) / perBlock.length;
  const variance = perBlock.reduce((s, v) => s + (v - mean) ** 2, 0) / perBlock.length;
  assert.ok(variance / mean > 3, `seed 13: errors do not cluster (variance/mean ${(variance / mean).toFixed(2)})`);
});

test('scenario batch-20: all delivered in one data over and one ack over after the hello', async () => {
  const r = await runScenarioFile(scenario('batch-20'), { bundle: simBundle, seed: 3 });
  assert.deepEqual([r.delivered, r.lost, r.duplicates, r.corrupted, r.overs], [20, 0, 0, 0, 4], `seed ${r.seed}`);
});

test('scenario preemption: the FLASH message overtakes the routine one, which resumes; FIFO makes it wait', async () => {
  const p = await runScenarioFile(scenario('preemption'), { bundle: simBundle, seed: 3 });
  const f = await runScenarioFile(scenario('preemption'), { bundle: simBundle, seed: 3, scheduler: 'fifo' });
  assert.deepEqual(p.deliveryOrder, ['msg-00001', 'msg-00000'], `seed ${p.seed}`);
  assert.deepEqual(f.deliveryOrder, ['msg-00000', 'msg-00001']);
  const flash = p.latencyByPriority['4']!.max;
  assert.ok(flash < 10, `seed ${p.seed}: FLASH took ${flash} s`);
  assert.ok(f.latencyByPriority['4']!.max / flash >= 50, `seed ${p.seed}: only ${(f.latencyByPriority['4']!.max / flash).toFixed(1)}x sooner than FIFO`);
  assert.equal(p.retransmissions, 0);
  assert.ok(p.bytesOnAir.aToB < p.bundleBytes * 1.1, `seed ${p.seed}: the routine message was not resumed but resent (${p.bytesOnAir.aToB} bytes on air)`);
});

test('random lossy scenarios: every message exactly once, byte-identical, whatever the seed', async () => {
  for (const seed of [21, 22, 23]) {
    const s = parseScenario({
      name: `random-${seed}`,
      seed,
      link: { bitRate: 1200, turnaroundS: 0.5, ber: { good: 1e-5, bad: 3e-3, meanGoodBits: 30000, meanBadBits: 3000 }, randomOutages: { meanIntervalS: 60, meanDurationS: 5 }, maxFrame: 256, maxOverS: 10 },
      messages: { generate: { count: 12, sizeBytes: { min: 300, max: 4000 }, priorities: [{ value: -2, weight: 1 }, { value: 0, weight: 2 }, { value: 4, weight: 1 }], spacingS: 7 } },
      timeLimitS: 20000,
    });
    const r = await runScenario(s, { bundle: simBundle });
    assert.deepEqual([r.delivered, r.lost, r.duplicates, r.corrupted], [12, 0, 0, 0], `seed ${seed}: ${JSON.stringify({ ...r, deliveryOrder: undefined })}`);
  }
});

test('full duplex: no turns to wait for, every message exactly once over a noisy cable', async () => {
  for (const ber of [0, 3e-4]) {
    const s = parseScenario({ name: 'fd', seed: 4, link: { bitRate: 9600, duplex: 'full', ber, maxFrame: 256, maxOverS: 5 }, messages: { generate: { count: 30, sizeBytes: { min: 500, max: 5000 } } }, timeLimitS: 3600 });
    const r = await runScenario(s, { bundle: simBundle });
    assert.deepEqual([r.delivered, r.lost, r.duplicates, r.corrupted], [30, 0, 0, 0], `ber ${ber}, seed 4`);
    if (ber === 0) assert.ok(r.goodputRatio > 1.5, `clean full duplex goodput ${r.goodputRatio}`);
  }
});

test('a modem with its own ARQ: slow answers are waited for, not answered with retransmissions', async () => {
  const { LinkStation, MemoryOutbound, MemoryProgressStore } = await import('../src/link/index.ts');
  const runOnce = async (modemArq: boolean) => {
    const clock = new VirtualClock();
    // The modem's own retries make its latency long and variable: here 6 s each way, unannounced.
    const ch = createChannel({ bitRate: 2000, duplex: 'full', turnaroundMs: 0, propagationMs: 6000 }, clock, new SeededRandom(5));
    const common = { key: new Uint8Array(32).fill(1), duplex: 'full', bitRate: 2000, turnaroundMs: 0, latencyMs: 50, maxFrame: 512, window: 64, maxOverMs: 4000, modemArq } as const;
    const out = new MemoryOutbound();
    const got: string[] = [];
    const a = new LinkStation({ ...common, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: new SeededRandom(1), port: ch.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore() });
    const b = new LinkStation({ ...common, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: new SeededRandom(2), port: ch.b, source: new MemoryOutbound(), sink: { accept: async (id) => void got.push(id) }, progress: new MemoryProgressStore() });
    for (let i = 0; i < 3; i++) out.add({ id: `m${i}`, priority: 0, queuedAt: clock.now(), bundle: new SeededRandom(i).bytes(4000) });
    a.start();
    b.start();
    await clock.runUntil(clock.now() + 600_000);
    return { got: got.length, retransmissions: a.sender.stats.retransmissions };
  };
  const own = await runOnce(false);
  const modem = await runOnce(true);
  assert.equal(modem.got, 3);
  assert.equal(modem.retransmissions, 0);
  assert.ok(own.retransmissions > 0, 'the test needs answers slow enough to time out');
});
