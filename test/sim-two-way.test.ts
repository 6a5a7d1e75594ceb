// The simulator's two-way traffic, per-station link settings, bundles per negotiated dictionary, the attacker
// (a third transmitter on the channel) and the run figures: stall, key-ups, refused, withdrawn. Only the
// simulator's own behaviour is tested here, not how the link copes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeHello, isFrameError, KissDecoder } from '../src/codec/index.ts';
import { createChannel } from '../sim/channel.ts';
import { forgedHello, runScenario } from '../sim/run-scenario.ts';
import { parseScenario, scenarioMessages } from '../sim/scenario.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { simBundle } from '../sim/sim-bundle.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

const base = { name: 't', link: { bitRate: 2400 }, messages: { generate: { count: 1, sizeBytes: 1000 } } };

test('scenario: from, link.a/link.b and attack are read, with defaults', () => {
  const s = parseScenario({
    ...base,
    link: { bitRate: 2400, frameSize: 512, window: 32, b: { frameSize: 64, window: 8 }, a: { dictionaries: [1, 0] } },
    messages: [{ atMs: 0, priority: 0, sizeBytes: 5000, from: 'b', label: 'b1' }, { sizeBytes: 500 }],
    attack: { forgedHelloEveryMs: 30000 },
  });
  assert.deepEqual(s.link.a, { frameSize: 512, window: 32, dictionaries: [0, 1] });
  assert.deepEqual(s.link.b, { frameSize: 64, window: 8, dictionaries: [0, 1, 2] });
  assert.deepEqual(s.attack, { forgedHelloEveryMs: 30000 });
  const msgs = scenarioMessages(s, () => 0.5, '.');
  assert.deepEqual(msgs.map((m) => [m.id, m.from]), [['msg-00000', 'b'], ['msg-00001', 'a']]);
  const plain = parseScenario(base);
  assert.equal(plain.attack, undefined);
  assert.deepEqual(plain.link.b, { frameSize: 256, window: 128, dictionaries: [0, 1, 2] });
  const gen = parseScenario({ ...base, messages: { generate: { count: 3, sizeBytes: 600, from: 'b' } }, attack: { forgedHelloEveryS: 2 } });
  assert.ok(scenarioMessages(gen, () => 0.5, '.').every((m) => m.from === 'b'));
  assert.equal(gen.attack?.forgedHelloEveryMs, 2000);
});

test('scenario: bad from, link.a/link.b and attack keys are named', () => {
  const bad: [unknown, RegExp][] = [
    [{ ...base, messages: [{ atMs: 0, sizeBytes: 10, from: 'c' }] }, / f\.yaml: messages\[0\]\.from: expected a \(alpha, the caller\) or b \(bravo, the answerer\)$/],
    [{ ...base, messages: { generate: { count: 1, sizeBytes: 1000, from: 'x' } } }, / f\.yaml: messages\.generate\.from: expected a /],
    [{ ...base, link: { bitRate: 2400, b: { frameSize: 10 } } }, / f\.yaml: link\.b\.frameSize: Too small/],
    [{ ...base, link: { bitRate: 2400, a: { mtu: 5 } } }, / f\.yaml: link\.a\.mtu: unknown key$/],
    [{ ...base, link: { bitRate: 2400, c: { window: 4 } } }, / f\.yaml: link\.c: unknown key$/],
    [{ ...base, link: { bitRate: 2400, b: { window: 0 } } }, / f\.yaml: link\.b\.window: Too small/],
    [{ ...base, link: { bitRate: 2400, b: 5 } }, / f\.yaml: link\.b: expected \{ frameSize, window, dictionaries \}$/],
    [{ ...base, link: { bitRate: 2400, b: { dictionaries: [7] } } }, / f\.yaml: link\.b\.dictionaries\[0\]: dictionary version 7 is not one this build has \(0, 1, 2\)$/],
    [{ ...base, link: { bitRate: 2400, a: { dictionaries: [] } } }, / f\.yaml: link\.a\.dictionaries: list at least one dictionary version/],
    [{ ...base, link: { bitRate: 2400, a: { dictionaries: [1, 1] } } }, / f\.yaml: link\.a\.dictionaries: a dictionary version is listed twice$/],
    [{ ...base, attack: {} }, / f\.yaml: attack\.forgedHelloEveryMs: required \(or forgedHelloEveryS\)$/],
    [{ ...base, attack: { forgedHelloEveryMs: 0 } }, / f\.yaml: attack\.forgedHelloEveryMs: Too small/],
    [{ ...base, attack: { forgedHelloEveryMs: 5, every: 1 } }, / f\.yaml: attack\.every: unknown key$/],
    [{ ...base, attack: { forgedHelloEveryMs: 5, forgedHelloEveryS: 5 } }, / f\.yaml: attack\.forgedHelloEveryS: give forgedHelloEveryMs or forgedHelloEveryS, not both$/],
    [{ ...base, attack: 30000 }, / f\.yaml: attack: expected \{ forgedHelloEveryMs \}$/],
  ];
  for (const [doc, re] of bad) assert.throws(() => parseScenario(doc, 'f.yaml'), re, JSON.stringify(doc));
});

test('channel.inject: airtime without turnaround, delivered after propagation, counted apart from the stations', async () => {
  const clock = new VirtualClock(0);
  const ch = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500, propagationMs: 10 }, clock, new SeededRandom(1));
  const atA: number[] = [];
  const atB: [number, number][] = [];
  ch.a.onData((c) => atA.push(c.length));
  ch.b.onData((c) => atB.push([clock.now(), c.length]));
  ch.inject('b', new Uint8Array(30)); // 100 ms on the air
  ch.inject('b', new Uint8Array(30)); // right after the first
  await clock.runUntil(1000);
  assert.deepEqual(atB, [[110, 30], [210, 30]]);
  assert.deepEqual(atA, []);
  ch.inject('both', new Uint8Array(3));
  await clock.runUntil(2000);
  assert.deepEqual([atA, atB.length], [[3], 3]);
  assert.deepEqual(
    { ...ch.stats.attacker },
    { injections: 3, bytesOnAir: 63, bytesDelivered: 66, bitErrors: 0, bytesLostToOutage: 0, collidedBytes: 0, jammedBytes: 0, airtimeMs: 210 },
  );
  assert.deepEqual([ch.a.stats.bytesOnAir, ch.a.stats.keyUps, ch.b.stats.bytesOnAir, ch.b.stats.keyUps], [0, 0, 0, 0]);
  assert.equal(ch.a.isTransmitting() || ch.b.isTransmitting(), false);
  assert.throws(() => ch.inject('c' as 'a', new Uint8Array(1)), /to must be 'a', 'b' or 'both'/);
});

test('channel.inject: a keyed target is deaf to it; what it overlaps at the target is lost on both sides', async () => {
  const clock = new VirtualClock(0);
  const ch = createChannel({ bitRate: 8000, duplex: 'half', turnaroundMs: 0, propagationMs: 0 }, clock, new SeededRandom(1));
  let atA = 0;
  let atB = 0;
  ch.a.onData((c) => (atA += c.length));
  ch.b.onData((c) => (atB += c.length));
  ch.a.write(new Uint8Array(1000)); // 0..1000 ms
  clock.setTimer(200, () => ch.inject('a', new Uint8Array(50))); // 200..250: alpha is keyed, deaf to it
  clock.setTimer(500, () => ch.inject('b', new Uint8Array(100))); // 500..600: collides with alpha's bytes at bravo
  await clock.runUntil(2000);
  assert.equal(atA, 0);
  assert.equal(atB, 900);
  assert.equal(ch.stats.attacker.collidedBytes, 150);
  assert.equal(ch.stats.attacker.jammedBytes, 100);
  assert.equal(ch.a.stats.collidedBytes, 100);
  assert.deepEqual([ch.a.stats.bytesOnAir, ch.a.stats.keyUps], [1000, 1]);
  // Once the air is clear it is heard.
  ch.inject('a', new Uint8Array(8));
  await clock.runUntil(3000);
  assert.equal(atA, 8);
});

test('channel.inject: the stations\' bit errors replay the same with or without an attacker', async () => {
  const run = async (attack: boolean) => {
    const clock = new VirtualClock(0);
    const ch = createChannel({ bitRate: 1e5, duplex: 'full', turnaroundMs: 0, ber: 1e-3 }, clock, new SeededRandom(7));
    const got: number[] = [];
    ch.b.onData((c) => got.push(...c));
    for (let i = 0; i < 20; i++) ch.a.write(new Uint8Array(1000));
    if (attack) clock.setTimer(3000, () => ch.inject('a', new Uint8Array(100))); // to alpha: bravo's reception is untouched
    await clock.runUntil(10_000);
    return { got, flips: ch.a.stats.bitErrors };
  };
  const plain = await run(false);
  assert.ok(plain.flips > 0);
  assert.deepEqual(await run(true), plain);
});

test('forgedHello: a CRC-valid hello in KISS claiming the given station', () => {
  const nonce = new SeededRandom(3).bytes(16);
  const kiss = new KissDecoder();
  const frames = kiss.push(forgedHello('alpha', nonce));
  assert.equal(frames.length, 1);
  const h = decodeHello(frames[0]!.payload);
  assert.ok(!isFrameError(h), JSON.stringify(h));
  assert.equal(h.station, 'alpha');
  assert.deepEqual([...h.nonce], [...nonce]);
  assert.deepEqual(h.caps, { maxFrame: 256, window: 8, dictionaries: [0] });
});

const twoWay = (link: Record<string, unknown> = {}) =>
  parseScenario({
    name: 'two-way',
    seed: 5,
    link: { bitRate: 2400, turnaroundMs: 500, duplex: 'half', ber: 0, frameSize: 256, ...link },
    messages: [
      { atMs: 0, sizeBytes: 3000, label: 'a1' },
      { atMs: 0, sizeBytes: 2500, from: 'b', label: 'b1' },
      { atMs: 5000, priority: 4, sizeBytes: 1200, from: 'b', label: 'b2' },
      { atMs: 8000, sizeBytes: 4000, attachment: true, label: 'a2' },
      { atMs: 9000, priority: -2, sizeBytes: 2000, from: 'b', label: 'b3' },
    ],
    timeLimitS: 3600,
  });

test('two-way traffic on a clean link: each message exactly once, byte-identical, at the other station', async () => {
  const s = twoWay();
  const r = await runScenario(s);
  const summary = JSON.stringify({ ...r, deliveryOrder: undefined });
  assert.deepEqual([r.messages, r.delivered, r.lost, r.duplicates, r.corrupted, r.withdrawn, r.refused, r.expired], [5, 5, 0, 0, 0, 0, 0, 0], summary);
  assert.deepEqual(r.directions, { aToB: { messages: 2, delivered: 2 }, bToA: { messages: 3, delivered: 3 } });
  assert.deepEqual([...r.deliveryOrder].sort(), ['msg-00000', 'msg-00001', 'msg-00002', 'msg-00003', 'msg-00004']);
  const sent = scenarioMessages(s, () => 0, '.');
  assert.equal(r.payloadBytes, sent.reduce((n, m) => n + m.content.length, 0));
  assert.ok(r.bytesOnAir.aToB > 0 && r.bytesOnAir.bToA > 0);
  assert.equal(r.keyUps, r.overs);
  assert.ok(r.keyUps > 2);
  assert.ok(r.longestStallS >= 0 && r.longestStallS < 60, `longest stall ${r.longestStallS} s on a clean link`);
  assert.deepEqual(await runScenario(s), r, 'a run replays from its seed');
});

test('bundles: made with the best dictionary both stations hold', async () => {
  const dictionariesUsed = async (link: Record<string, unknown>) => {
    const used = new Set<number>();
    const r = await runScenario(twoWay(link), {
      bundle: (m, d) => {
        used.add(d);
        return simBundle(m, d);
      },
    });
    assert.deepEqual([r.delivered, r.corrupted], [5, 0], JSON.stringify(link));
    return [...used];
  };
  assert.deepEqual(await dictionariesUsed({}), [2]);
  assert.deepEqual(await dictionariesUsed({ b: { dictionaries: [0, 1] } }), [1]);
  assert.deepEqual(await dictionariesUsed({ b: { dictionaries: [0] } }), [0]);
  assert.deepEqual(await dictionariesUsed({ a: { dictionaries: [0] }, b: { dictionaries: [0, 1] } }), [0]);
});

test('attacker: forged hellos go on the air every forgedHelloEveryMs, alternately to bravo and alpha, apart from the stations', async () => {
  const doc = {
    name: 'forged',
    seed: 2,
    link: { bitRate: 2400, turnaroundMs: 1500, duplex: 'half', ber: 0, frameSize: 256 },
    messages: [{ atMs: 100_000, sizeBytes: 1000 }], // the channel is quiet until then: the hellos are heard
    timeLimitS: 400,
  };
  const r = await runScenario(parseScenario({ ...doc, attack: { forgedHelloEveryMs: 20_000 } }));
  const frame = forgedHello('alpha', new Uint8Array(16)).length;
  assert.ok(r.attacker.hellos >= 4, JSON.stringify(r.attacker));
  assert.equal(r.attacker.injections, r.attacker.hellos);
  assert.equal(r.attacker.bytesOnAir, r.attacker.hellos * frame);
  assert.ok(r.attacker.bytesDelivered >= 4 * frame, JSON.stringify(r.attacker));
  const control = await runScenario(parseScenario(doc));
  assert.deepEqual(control.attacker, { injections: 0, bytesOnAir: 0, bytesDelivered: 0, bitErrors: 0, bytesLostToOutage: 0, collidedBytes: 0, jammedBytes: 0, airtimeMs: 0, hellos: 0 });
});

test('longestStallS: a 120 s fade in the middle of the traffic is a stall of at least 100 s', async () => {
  const s = (outages: { atMs: number; durationMs: number }[]) =>
    parseScenario({
      name: 'stall',
      seed: 1,
      link: { bitRate: 2400, turnaroundMs: 500, duplex: 'half', ber: 0, frameSize: 256, outages },
      messages: { generate: { count: 6, sizeBytes: 8000, attachment: true, spacingMs: 5000 } },
      timeLimitS: 3600,
    });
  const clear = await runScenario(s([]));
  const faded = await runScenario(s([{ atMs: 20_000, durationMs: 120_000 }]));
  assert.ok(clear.longestStallS < 60, `no fade: longest stall ${clear.longestStallS} s`);
  assert.ok(faded.longestStallS >= 100, `120 s fade: longest stall ${faded.longestStallS} s`);
  assert.ok(faded.longestStallS <= 3600);
});
