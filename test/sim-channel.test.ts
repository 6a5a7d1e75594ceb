// The simulator's parts in virtual time: the clock, the channel (timing, turnaround, integrity, bit errors,
// fades, collisions), the mail generator and scenario files. Failures print the seed (fast-check prints its own).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { averageBer } from '../sim/bit-errors.ts';
import { createChannel, type ChannelOptions } from '../sim/channel.ts';
import { generateMail } from '../sim/mail-generator.ts';
import { loadScenario, parseScenario, scenarioMessages } from '../sim/scenario.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

type Arrival = { at: number; bytes: Uint8Array };

/** A channel on a virtual clock starting at 0; everything each side received, with its arrival time. */
function rig(opts: Partial<ChannelOptions>, seed = 1) {
  const clock = new VirtualClock(0, { settle: false });
  const ch = createChannel({ bitRate: 2400, duplex: 'full', ...opts }, clock, new SeededRandom(seed));
  const atA: Arrival[] = [];
  const atB: Arrival[] = [];
  ch.a.onData((bytes) => atA.push({ at: clock.now(), bytes }));
  ch.b.onData((bytes) => atB.push({ at: clock.now(), bytes }));
  const all = (list: Arrival[]) => Buffer.concat(list.map((x) => x.bytes));
  return { clock, ch, atA, atB, all };
}

const pattern = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);
const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;

test('virtual clock: time order, ties in order of setting, same-instant events in the same pass, cancel', async () => {
  const c = new VirtualClock(1000);
  const seen: string[] = [];
  c.setTimer(20, () => seen.push('b'));
  c.setTimer(10, () => seen.push('a'));
  c.setTimer(20, () => seen.push('c'));
  c.setTimer(15, () => seen.push('x')).cancel();
  c.setTimer(5, () => c.setTimer(0, () => seen.push('a0')));
  c.setTimer(20, () => c.setTimer(0, () => seen.push('d')));
  assert.equal(c.pending, 5);
  assert.deepEqual([await c.runUntil(1015), seen, c.now()], [true, ['a0', 'a'], 1015]);
  assert.deepEqual([await c.runUntil(2000), seen, c.now()], [false, ['a0', 'a', 'b', 'c', 'd'], 2000]);
  await c.runUntil(10); // time never runs backwards
  assert.equal(c.now(), 2000);
});

test('virtual clock: step, runUntilIdle, no re-entry, a million events', async () => {
  const c = new VirtualClock(0, { settle: false });
  const seen: number[] = [];
  c.setTimer(7, () => seen.push(1));
  c.setTimer(7, () => c.setTimer(0, () => seen.push(3)));
  c.setTimer(9, () => seen.push(4));
  assert.equal(c.step(), true);
  assert.deepEqual([seen, c.now()], [[1, 3], 7]);
  assert.deepEqual([await c.runUntilIdle(), c.now(), c.step()], [true, 9, false]);
  c.setTimer(50, () => c.step());
  assert.throws(() => c.runUntilSync(100), /already running/);
  assert.equal(c.now(), 59); // the event that misbehaved has run
  c.setTimer(500, () => undefined);
  assert.deepEqual([await c.runUntilIdle(100), c.now()], [false, 159]);
  let n = 0;
  const tick = () => void (++n < 1_000_000 && c.setTimer(1 + (n % 3), tick));
  c.setTimer(1, tick);
  c.runUntilSync(Infinity);
  assert.equal(n, 1_000_000);
});

test('virtual clock: any schedule runs sorted by time, then by order of setting', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ ms: fc.integer({ min: 0, max: 50 }), cancel: fc.boolean() }), { maxLength: 60 }), (timers) => {
      const c = new VirtualClock(0);
      const ran: number[] = [];
      timers.forEach((t, i) => {
        const h = c.setTimer(t.ms, () => ran.push(i));
        if (t.cancel) h.cancel();
      });
      c.runUntilSync(100);
      const want = timers.map((t, i) => ({ ...t, i })).filter((t) => !t.cancel).sort((x, y) => x.ms - y.ms || x.i - y.i);
      assert.deepEqual(ran, want.map((t) => t.i));
    }),
  );
});

test('channel timing, full duplex: N bytes arrive after propagation + N x 8 / bitRate (within one quantum)', () => {
  const rates = fc.constantFrom(300, 1200, 2400, 9600);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3000 }), rates, fc.constantFrom(0, 20, 50), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 5000 }), (n, bitRate, quantum, prop, t0) => {
      const { clock, ch, atB, all } = rig({ bitRate, propagationMs: prop, deliveryQuantumMs: quantum });
      const byteMs = 8000 / bitRate;
      clock.setTimer(t0, () => ch.a.write(pattern(n)));
      clock.runUntilSync(Infinity);
      const end = t0 + prop + n * byteMs;
      const first = atB[0]!.at;
      const last = atB[atB.length - 1]!.at;
      assert.deepEqual(all(atB), Buffer.from(pattern(n)));
      if (quantum === 0) assert.ok(atB.length === 1 && near(last, end), `arrived at ${last}, want ${end}`);
      else {
        assert.ok(last >= end - 1e-6 && last < end + quantum, `last chunk at ${last}, want ${end} + < ${quantum}`);
        assert.ok(first >= t0 + prop + byteMs - 1e-6 && first < t0 + prop + byteMs + quantum, `first chunk at ${first}`);
        assert.ok(atB.every((x) => x.at % quantum === 0), 'chunks arrive on the quantum grid');
      }
      assert.deepEqual([ch.stats.aToB.bytesOnAir, ch.stats.aToB.bytesDelivered, ch.stats.aToB.keyUps], [n, n, 1]);
      assert.ok(near(ch.stats.aToB.airtimeMs, n * byteMs));
    }),
    { numRuns: 200 },
  );
});

test('channel timing, half duplex: key-up costs the turnaround once per over; back-to-back writes follow on', () => {
  const { clock, ch, atB } = rig({ duplex: 'half', turnaroundMs: 1500, propagationMs: 10, deliveryQuantumMs: 0 });
  const byteMs = 8000 / 2400;
  ch.a.write(pattern(1));
  assert.ok(ch.a.isTransmitting());
  clock.runUntilSync(5000);
  assert.ok(near(atB[0]!.at, 1500 + 10 + byteMs), `first byte at ${atB[0]!.at}`);
  assert.equal(ch.a.isTransmitting(), false);
  let idle = 0;
  ch.a.onIdle(() => idle++);
  clock.setTimer(0, () => ch.a.write(pattern(300))); // 5000: key-up, bytes from 6500 to 7500
  clock.setTimer(700, () => ch.a.write(pattern(30))); // 5700: still keyed, follows at 7500
  clock.setTimer(2600, () => ch.a.write(pattern(3))); // 7600: idle since 7600, a new over
  clock.runUntilSync(20_000);
  const times = atB.slice(1).map((x) => x.at);
  const want = [7510, 7510 + 30 * byteMs, 7600 + 1500 + 3 * byteMs + 10];
  assert.ok(times.length === 3 && times.every((t, i) => near(t, want[i]!)), `arrivals ${times}, want ${want}`);
  assert.equal(ch.stats.aToB.keyUps, 3);
  assert.equal(idle, 2);
  assert.ok(near(ch.stats.aToB.keyedMs, 3 * 1500 + 334 * byteMs));
  // With a delivery quantum the over's first byte still arrives only after turnaround + propagation.
  const q = rig({ duplex: 'half', turnaroundMs: 1500, propagationMs: 10, deliveryQuantumMs: 50 });
  q.ch.b.write(pattern(2000));
  q.clock.runUntilSync(60_000);
  assert.ok(q.atA[0]!.at >= 1510 + byteMs && q.atA[0]!.at < 1560 + byteMs, `first chunk at ${q.atA[0]!.at}`);
  // Ten bits a byte with start and stop bits.
  const slow = rig({ bitRate: 1000, asyncFraming: true, propagationMs: 0 });
  slow.ch.a.write(pattern(100));
  slow.clock.runUntilSync(10_000);
  assert.equal(slow.atB[0]!.at, 1000);
});

test('a clean link delivers every write intact and in order, both ways, whatever the sizes and timing', () => {
  const writes = fc.array(fc.record({ delay: fc.integer({ min: 0, max: 3000 }), bytes: fc.uint8Array({ minLength: 0, maxLength: 400 }), fromB: fc.boolean() }), { maxLength: 30 });
  fc.assert(
    fc.property(writes, fc.constantFrom<'half' | 'full'>('half', 'full'), fc.constantFrom(0, 13, 50), (list, duplex, quantum) => {
      const { clock, ch, atA, atB, all } = rig({ duplex, turnaroundMs: 200, deliveryQuantumMs: quantum });
      const sent = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
      let at = 0;
      for (const w of list) {
        at += w.delay;
        // On half duplex only A talks, so nothing collides.
        const fromB = duplex === 'full' && w.fromB;
        (fromB ? sent.b : sent.a).push(w.bytes);
        clock.setTimer(at - clock.now(), () => {
          const buf = Uint8Array.from(w.bytes);
          (fromB ? ch.b : ch.a).write(buf);
          buf.fill(0xee); // the caller may reuse its buffer at once
        });
      }
      clock.runUntilSync(Infinity);
      assert.deepEqual(all(atB), Buffer.concat(sent.a));
      assert.deepEqual(all(atA), Buffer.concat(sent.b));
      assert.equal(ch.stats.aToB.collidedBytes + ch.stats.bToA.collidedBytes + ch.stats.aToB.bitErrors, 0);
    }),
    { numRuns: 150 },
  );
});

/** Sends `bits` zero bits A to B at 1 Mbit/s and returns what arrived (ones are flipped bits). */
function noisy(seed: number, ber: ChannelOptions['ber'], bits = 1_000_000) {
  const { clock, ch, atB, all } = rig({ bitRate: 1e6, ber, propagationMs: 0 }, seed);
  for (let i = 0; i < bits / 8000; i++) ch.a.write(new Uint8Array(1000));
  clock.runUntilSync(Infinity);
  const got = all(atB);
  let ones = 0;
  for (const byte of got) for (let v = byte; v; v &= v - 1) ones++;
  return { got, ones, stats: ch.stats.aToB };
}

test('bit errors: about BER x bits, flipped not dropped; the same seed repeats, another differs', () => {
  for (const seed of [11, 12, 13]) {
    const r = noisy(seed, 1e-3);
    assert.ok(r.ones > 800 && r.ones < 1200, `seed ${seed}: ${r.ones} flips in 1e6 bits at 1e-3`);
    assert.equal(r.stats.bitErrors, r.ones, `seed ${seed}`);
    assert.equal(r.got.length, 125_000, `seed ${seed}: bytes were dropped`);
  }
  assert.deepEqual(noisy(11, 1e-3).got, noisy(11, 1e-3).got, 'seed 11 twice');
  assert.notDeepEqual(noisy(11, 1e-3).got, noisy(12, 1e-3).got, 'seeds 11 and 12');
  assert.equal(noisy(5, 0).ones, 0);
});

test('bit errors, Gilbert-Elliott: the average rate holds and errors come in bursts', () => {
  const ge = { good: 1e-5, bad: 1e-2, pGoodToBad: 1e-4, pBadToGood: 1e-3 };
  for (const seed of [21, 22]) {
    const r = noisy(seed, ge, 4_000_000);
    const want = averageBer(ge) * 4e6;
    assert.ok(Math.abs(r.ones - want) < want * 0.3, `seed ${seed}: ${r.ones} errors, about ${want.toFixed(0)} expected`);
    const perBlock: number[] = [];
    for (let i = 0; i < r.got.length; i += 125) {
      let n = 0;
      for (const byte of r.got.subarray(i, i + 125)) for (let v = byte; v; v &= v - 1) n++;
      perBlock.push(n);
    }
    const mean = perBlock.reduce((s, v) => s + v, 0) / perBlock.length;
    const variance = perBlock.reduce((s, v) => s + (v - mean) ** 2, 0) / perBlock.length;
    assert.ok(variance / mean > 3, `seed ${seed}: errors per 1000 bits do not cluster (variance/mean ${(variance / mean).toFixed(2)})`);
  }
  // The same bursts given as mean dwell lengths.
  assert.deepEqual(noisy(3, { good: 1e-5, bad: 1e-2, meanGoodBits: 1e4, meanBadBits: 1e3 }).got, noisy(3, ge).got);
});

/** Byte i of a write starting at `start` is on the air over [start + i x byteMs, start + (i + 1) x byteMs). */
const overlaps = (start: number, byteMs: number, i: number, o: { from: number; to: number }) => start + i * byteMs < o.to && start + (i + 1) * byteMs > o.from;

test('fades drop exactly the bytes on the air during them, fixed or random', () => {
  const fixed = fc.record({ at: fc.integer({ min: 0, max: 4000 }), dur: fc.integer({ min: 1, max: 3000 }) });
  fc.assert(
    fc.property(fc.array(fixed, { maxLength: 3 }), fc.constantFrom(1200, 2400, 9600), fc.constantFrom(0, 50), fc.integer({ min: 0, max: 1000 }), fc.boolean(), (outages, bitRate, quantum, t0, randomToo) => {
      const n = Math.ceil((6000 * bitRate) / 8000); // six seconds of air
      const { clock, ch, atB, all } = rig({
        bitRate,
        duplex: 'half',
        turnaroundMs: 300,
        deliveryQuantumMs: quantum,
        outages: outages.map((o) => ({ atMs: o.at, durationMs: o.dur })),
        ...(randomToo ? { randomOutages: { meanIntervalMs: 1500, meanDurationMs: 200 } } : {}),
      });
      clock.setTimer(t0, () => ch.a.write(pattern(n)));
      clock.runUntilSync(Infinity);
      const byteMs = 8000 / bitRate;
      const start = t0 + 300;
      const fades = ch.outages.overlapping(0, start + n * byteMs + 1);
      if (!randomToo) assert.equal(fades.length, outages.length);
      const keep = [...pattern(n)].filter((_, i) => !fades.some((o) => overlaps(start, byteMs, i, o)));
      assert.deepEqual([...all(atB)], keep);
      assert.equal(ch.stats.aToB.bytesLostToOutage, n - keep.length);
      assert.equal(ch.stats.aToB.bytesDelivered, keep.length);
    }),
    { numRuns: 150 },
  );
});

test('half duplex: both on the air at once, the overlapping bytes are lost at both receivers; full duplex: none', () => {
  // 8000 bit/s: one byte a millisecond. A keys up at 0 and sends from 200 to 1200 ms; B keys up at 500 and sends
  // from 700 to 800.
  for (const prop of [0, 10]) {
    const { clock, ch, atA, atB, all } = rig({ bitRate: 8000, duplex: 'half', turnaroundMs: 200, propagationMs: prop });
    ch.a.write(pattern(1000));
    clock.setTimer(500, () => ch.b.write(pattern(100)));
    clock.runUntilSync(Infinity);
    // B is deaf from 500 to 800: A's bytes arriving then (sent prop ms earlier) are lost; A hears nothing of B.
    const keep = [...pattern(1000)].filter((_, i) => !overlaps(200, 1, i, { from: 500 - prop, to: 800 - prop }));
    assert.deepEqual([...all(atB)], keep, `propagation ${prop}`);
    assert.deepEqual([ch.stats.aToB.collidedBytes, ch.stats.bToA.collidedBytes, atA.length], [300, 100, 0], `propagation ${prop}`);
    assert.equal(ch.stats.bToA.keyUps, 1);
  }
  const full = rig({ bitRate: 8000, duplex: 'full', turnaroundMs: 200 });
  full.ch.a.write(pattern(1000));
  full.clock.setTimer(500, () => full.ch.b.write(pattern(100)));
  full.clock.runUntilSync(Infinity);
  assert.deepEqual([full.all(full.atB).length, full.all(full.atA).length, full.ch.stats.aToB.collidedBytes], [1000, 100, 0]);
});

test('closing a port: onClose once, its writes are dropped, nothing more reaches it', async () => {
  const { clock, ch, atA, atB } = rig({ duplex: 'full' });
  let closes = 0;
  ch.a.onClose(() => closes++);
  ch.b.write(pattern(10));
  await ch.a.close();
  await ch.a.close();
  ch.a.write(pattern(10));
  clock.runUntilSync(Infinity);
  assert.deepEqual([closes, atA.length, atB.length, ch.stats.aToB.bytesOnAir], [1, 0, 0, 0]);
  assert.throws(() => createChannel({ bitRate: 0, duplex: 'half' }, clock, new SeededRandom(1)), /bitRate/);
  assert.throws(() => createChannel({ bitRate: 2400, duplex: 'full', ber: 2 }, clock, new SeededRandom(1)), /ber/);
});

const header = (mail: string) => mail.slice(0, mail.indexOf('\r\n\r\n'));

test('generated mail: exactly the size asked, CRLF lines of at most 78, the usual header fields, from the seed', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 1500, max: 40_000 }), fc.boolean(), fc.nat(), (size, attachment, seed) => {
      const rnd = new SeededRandom(seed);
      const mail = generateMail(size, () => rnd.next(), 7, attachment);
      const text = Buffer.from(mail).toString('utf8');
      assert.equal(mail.length, size, `seed ${seed}`);
      assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), `seed ${seed}: a bare CR or LF`);
      assert.ok(text.split('\r\n').every((l) => l.length <= 78), `seed ${seed}: a line over 78`);
      for (const f of ['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']) assert.match(header(text), new RegExp(`^${f}: `, 'm'));
      const again = new SeededRandom(seed);
      assert.deepEqual(generateMail(size, () => again.next(), 7, attachment), mail);
    }),
    { numRuns: 100 },
  );
  const rnd = new SeededRandom(4);
  const parsed = await simpleParser(Buffer.from(generateMail(30_000, () => rnd.next(), 1, true)));
  assert.equal(parsed.attachments.length, 1);
  assert.ok(parsed.attachments[0]!.size > 20_000 && (parsed.text ?? '').length > 20, 'a photo and a covering note');
  assert.match(parsed.date?.toISOString() ?? '', /^2026-03/);
});

const shipped = (name: string) => fileURLToPath(new URL(`../sim/scenarios/${name}.yaml`, import.meta.url));

test('shipped scenarios: 2400 bit/s half duplex with 1.5 s turnaround, 1 MB batches, the bursty one near 1e-4', () => {
  for (const [name, ber] of [['clean-2400', 0], ['hf-1e-5', 1e-5], ['hf-1e-4-bursty', 1e-4]] as const) {
    const s = loadScenario(shipped(name));
    assert.deepEqual([s.link.bitRate, s.link.turnaroundMs, s.link.duplex], [2400, 1500, 'half'], name);
    assert.ok(Math.abs(averageBer(s.link.ber) - ber) <= ber * 0.1, `${name}: average BER ${averageBer(s.link.ber)}`);
    const rnd = new SeededRandom(s.seed);
    const msgs = scenarioMessages(s, () => rnd.next(), '.');
    const total = msgs.reduce((n, m) => n + m.content.length, 0);
    assert.ok(total >= 1_000_000 && total < 1_010_000 && msgs.every((m) => m.content.length >= 2000 && m.content.length <= 8000), name);
    assert.ok(new Set(msgs.map((m) => m.priority)).size > 2, `${name}: mixed priorities`);
  }
  const p = loadScenario(shipped('preemption'));
  const rnd = new SeededRandom(p.seed);
  const [routine, flash] = scenarioMessages(p, () => rnd.next(), '.');
  assert.deepEqual([routine!.priority, routine!.content.length, flash!.priority, flash!.atMs, flash!.content.length], [-2, 100_000, 4, 30_000, 1000]);
  const b = loadScenario(shipped('batch-20'));
  const r2 = new SeededRandom(b.seed);
  const batch = scenarioMessages(b, () => r2.next(), '.');
  assert.ok(batch.length === 20 && batch.every((m) => m.atMs === 0 && m.content.length >= 500 && m.content.length <= 1500));
  assert.ok(loadScenario(shipped('fades')).link.outages.length > 0);
});

test('scenario errors name the file and the key; seconds and ms spellings mean the same', () => {
  const base = { name: 't', link: { bitRate: 2400 }, messages: { generate: { count: 1, sizeBytes: 1000 } } };
  const bad: [unknown, RegExp][] = [
    [{ ...base, link: { bitRate: 2400, turnaroundMs: 'x' } }, /f\.yaml: link\.turnaroundMs: /],
    [{ ...base, link: { bitRate: 2400, bitrate: 1 } }, /f\.yaml: link\.bitrate: unknown key/],
    [{ ...base, link: { bitRate: 2400, turnaroundMs: 1, turnaroundS: 1 } }, /link\.turnaroundS: give turnaroundMs or turnaroundS, not both/],
    [{ ...base, link: { bitRate: 2400, ber: { good: 0, bad: 0.01, pGoodToBad: 2, pBadToGood: 0.1 } } }, /link\.ber\.pGoodToBad: /],
    [{ ...base, link: { bitRate: 2400, outages: [{ atMs: 5 }] } }, /link\.outages\[0\]\.durationMs: required/],
    [{ ...base, messages: { generate: { count: 1, sizeBytes: { min: 9, max: 3 } } } }, /messages\.generate\.sizeBytes\.max: must be at least min/],
    [{ ...base, messages: [{ atMs: 0, priority: 12, sizeBytes: 10 }] }, /messages\[0\]\.priority: /],
    [{ ...base, messages: { gen: 1 } }, /messages: expected \{ generate/],
  ];
  for (const [doc, re] of bad) assert.throws(() => parseScenario(doc, 'f.yaml'), re, JSON.stringify(doc));
  assert.throws(() => loadScenario('/nonexistent/x.yaml'), /x\.yaml: cannot read: ENOENT/);
  const inS = parseScenario({ ...base, link: { bitRate: 2400, turnaroundS: 1.5, propagationS: 0.02, maxFrame: 512, maxOverS: 20, outages: [{ atS: 1, durationS: 2 }], ber: { good: 0, bad: 0.01, meanGoodBits: 1000, meanBadBits: 100 } } });
  const inMs = parseScenario({ ...base, link: { bitRate: 2400, turnaroundMs: 1500, propagationMs: 20, frameSize: 512, overMs: 20000, outages: [{ atMs: 1000, durationMs: 2000 }], ber: { good: 0, bad: 0.01, pGoodToBad: 0.001, pBadToGood: 0.01 } } });
  assert.deepEqual(inS.link, inMs.link);
});
