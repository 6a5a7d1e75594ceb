// The session context (docs/protocol.md, "Session context"): bundles compressed against messages the peer already
// holds, and every way that history can be missing on one side. Two LinkStations over the simulated radio in
// virtual time, with the real bundle codec on both ends; every message must arrive once and byte-identical.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleContext, decodeBundle, encodeBundle, isCodecError, type Bundle, type BundleContext } from '../src/codec/index.ts';
import { encodeKiss, KissDecoder } from '../src/codec/kiss.ts';
import { FrameType, PROTOCOL_VERSION } from '../src/codec/link-frame.ts';
import { LinkRefusal, MemoryOutbound, MemoryProgressStore, type InboundSink, type LinkPort } from '../src/link/index.ts';
import { LinkStation } from '../src/link/link-station.ts';
import type { Receiver } from '../src/link/receiver.ts';
import { Sender } from '../src/link/sender.ts';
import { SessionHistory } from '../src/link/session-history.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

const KEY = new TextEncoder().encode('the key alpha and bravo share, 32');
const LINK = { key: KEY, duplex: 'half', bitRate: 2400, turnaroundMs: 500, latencyMs: 30, maxFrame: 512, window: 64, maxOverMs: 20_000, dictionaries: [0, 1, 2] } as const;

/** Mail of one team to one base: the same header fields and addresses, a different text every time. */
function mail(i: number, rng: SeededRandom): Uint8Array {
  const words = ['water', 'pump', 'fuel', 'convoy', 'north', 'well', 'generator', 'camp', 'supplies', 'radio', 'weather', 'road', 'bridge', 'medical', 'team'];
  const text = Array.from({ length: 40 + rng.int(200) }, () => words[rng.int(words.length)]).join(' ');
  const lines = [
    `Received: from laptop.field.example ([10.1.0.7]) by alpha.field.example with ESMTP id M${1000 + i} for <ops@base.example> PRIORITY 0; Tue, 03 Mar 2026 09:${String(i % 60).padStart(2, '0')}:00 +0000`,
    'From: Field Team 3 <team3@field.example>',
    'To: Operations <ops@base.example>',
    `Subject: daily report ${i}: ${words[i % words.length]}`,
    `Date: Tue, 03 Mar 2026 09:${String(i % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: <20260303.${i}.${rng.int(1e9)}@field.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8; format=flowed',
    'Content-Transfer-Encoding: 8bit',
    'User-Agent: Mozilla Thunderbird',
    '',
    ...text.match(/.{1,72}(\s|$)/g)!.map((l) => l.trim()),
    '',
    'Team 3, north camp',
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

function bundleOf(id: string, content: Uint8Array): Bundle {
  return {
    id,
    priority: { value: 0, source: 'policy' },
    sender: 'team3@field.example',
    params: { smtputf8: false, size: content.length },
    recipients: [{ address: 'ops@base.example', notify: null }],
    receivedAt: 1_800_000_000_000,
    content,
  };
}

interface PairHooks {
  /** Frames arriving at alpha (from bravo): return false to lose one. */
  toAlpha?: (frame: Uint8Array) => boolean;
  /** Deadlines (ms after the start) of some messages, by index. */
  deadlines?: Record<number, number>;
}

/** Alpha sends `n` mails to bravo; bravo's sink decodes them as the gateway does (a history it cannot use: 4.6.0). */
function pair(n: number, seed: number, hooks: PairHooks = {}) {
  const clock = new VirtualClock();
  const rng = new SeededRandom(seed);
  const channel = createChannel({ bitRate: LINK.bitRate, duplex: 'half', turnaroundMs: LINK.turnaroundMs, propagationMs: 10 }, clock, rng.fork());
  const contents = new Map<string, Uint8Array>();
  const made: { id: string; context: number; bytes: number }[] = [];
  const accepted = new Map<string, number>();
  const refusedHere: string[] = [];
  const filtered = (inner: LinkPort, keep?: (frame: Uint8Array) => boolean): LinkPort => {
    if (!keep) return inner;
    const kiss = new KissDecoder(1 << 16);
    return {
      write: (d) => inner.write(d),
      onData: (l) => inner.onData((d) => {
        const frames = kiss.push(d);
        for (const f of frames) if (keep(f.payload)) l(encodeKiss(f.payload));
      }),
      onClose: (l) => inner.onClose(l),
      close: () => inner.close(),
    };
  };
  const sink: InboundSink = {
    accept: async (id, bytes, _openedAt, history) => {
      const b = decodeBundle(bytes, undefined, history, id);
      if (isCodecError(b)) {
        refusedHere.push(id);
        throw new LinkRefusal(history ? '4.6.0' : '5.6.0', `${b.error}: ${b.detail}`);
      }
      assert.ok(Buffer.from(b.content).equals(Buffer.from(contents.get(id)!)), `${id} arrived different`);
      accepted.set(id, (accepted.get(id) ?? 0) + 1);
    },
  };
  const out = new MemoryOutbound();
  const station = (name: 'alpha' | 'bravo', port: LinkPort, source: MemoryOutbound, progress = new MemoryProgressStore()) => {
    const st = new LinkStation(
      { ...LINK, station: name, peer: name === 'alpha' ? 'bravo' : 'alpha', role: name === 'alpha' ? 'caller' : 'answerer' },
      { clock, random: rng.fork(), port, source, sink, progress },
    );
    source.onAdd(() => st.notify());
    return st;
  };
  const alpha = station('alpha', filtered(channel.a, hooks.toAlpha), out);
  const bravoProgress = new MemoryProgressStore();
  let bravo = station('bravo', channel.b, new MemoryOutbound(), bravoProgress);
  const gen = rng.fork();
  for (let i = 0; i < n; i++) {
    const id = `m${String(i).padStart(3, '0')}`;
    const content = mail(i, gen);
    contents.set(id, content);
    const bundle = (_d: readonly number[], context?: BundleContext) => {
      const bytes = encodeBundle(bundleOf(id, content), 2, context);
      made.push({ id, context: bundleContext(bytes)!.count, bytes: bytes.length });
      return bytes;
    };
    const deadline = hooks.deadlines?.[i];
    out.add({ id, priority: 0, queuedAt: i, bundle, size: content.length / 2, ...(deadline !== undefined ? { deadline: clock.now() + deadline } : {}) });
  }
  return {
    clock,
    t0: clock.now() - 0,
    alpha,
    get bravo() {
      return bravo;
    },
    out,
    contents,
    made,
    accepted,
    refusedHere,
    start() {
      alpha.start();
      bravo.start();
    },
    /** Bravo stops (its process died) and a new one starts on the same store: it knows no session. */
    restartBravo() {
      bravo.stop();
      bravo = station('bravo', channel.b, new MemoryOutbound(), bravoProgress);
      bravo.start();
    },
    async runUntilDone(limitMs: number): Promise<boolean> {
      const end = clock.now() + limitMs;
      while (out.confirmed.length < n && clock.now() < end) await clock.runUntil(Math.min(end, clock.now() + 5000), 20_000);
      return out.confirmed.length === n;
    },
    stop() {
      alpha.stop();
      bravo.stop();
    },
  };
}

const receiverOf = (st: LinkStation) => (st as unknown as { receiver: Receiver }).receiver;

function assertAllOnce(p: ReturnType<typeof pair>): void {
  assert.deepEqual(p.out.refusals, [], 'no message refused for good');
  assert.deepEqual(p.out.withdrawn, []);
  for (const id of p.contents.keys()) assert.equal(p.accepted.get(id), 1, `${id} taken ${p.accepted.get(id) ?? 0} times`);
}

test('session history: the receiver rebuilds the bytes the sender offered, slots it never heard of left out, old slots let go', () => {
  const sender = new SessionHistory();
  const receiver = new SessionHistory();
  const rng = new SeededRandom(4);
  for (let s = 1; s <= 40; s++) {
    const stream = rng.bytes(1000 + rng.int(9000));
    receiver.add(receiver.nextSlot(), stream);
    if (s % 7 !== 3) sender.add(s, stream); // some CUSTODY frames the sender never heard
  }
  const offer = sender.offer()!;
  assert.equal(offer.count, 40);
  assert.ok(offer.excluded.length > 0 && offer.excluded.every((s) => s % 7 === 3), `excluded ${offer.excluded.join(',')}`);
  assert.equal(offer.history.length, 128 * 1024);
  assert.ok(Buffer.from(receiver.resolve(offer.count, offer.excluded)!).equals(Buffer.from(offer.history)));
  // Slots the receiver let go of cannot be rebuilt: undefined, never other bytes.
  for (let s = 41; s <= 200; s++) receiver.add(receiver.nextSlot(), rng.bytes(5000));
  assert.equal(receiver.resolve(offer.count, offer.excluded), undefined);
  receiver.reset();
  assert.equal(receiver.nextSlot(), 1);
});

test('session context: mail in one session is compressed against mail the peer holds; each arrives once, byte-identical, and smaller', async () => {
  const p = pair(40, 1);
  p.start();
  assert.ok(await p.runUntilDone(3_600_000), `custody for ${p.out.confirmed.length} of 40`);
  p.stop();
  assertAllOnce(p);
  const crossed = new Map(p.made.map((m) => [m.id, m])); // the last bundle made for each
  const withContext = [...crossed.values()].filter((m) => m.context > 0);
  const without = [...crossed.values()].filter((m) => m.context === 0);
  assert.ok(withContext.length >= 20, `${withContext.length} of 40 bundles named the session's history`);
  const mean = (xs: { bytes: number }[]) => xs.reduce((a, x) => a + x.bytes, 0) / xs.length;
  const alone = [...crossed.keys()].map((id) => encodeBundle(bundleOf(id, p.contents.get(id)!), 2).length);
  const aloneMean = alone.reduce((a, x) => a + x, 0) / alone.length;
  assert.ok(mean(withContext) < 0.8 * aloneMean, `with the history ${mean(withContext).toFixed(0)} B, alone ${aloneMean.toFixed(0)} B (first over ${mean(without).toFixed(0)} B)`);
});

test('session context: a receiver that lost the history refuses 4.6.0 and the message comes again without it, taken once', async () => {
  const p = pair(30, 2);
  p.start();
  // Bravo forgets its history once ten messages are in its custody (as after letting old slots go).
  let forgot = false;
  const end = p.clock.now() + 3_600_000;
  while (p.out.confirmed.length < 30 && p.clock.now() < end) {
    await p.clock.runUntil(p.clock.now() + 1000, 20_000);
    if (!forgot && p.out.confirmed.length >= 10) {
      receiverOf(p.bravo).history.reset();
      forgot = true;
    }
  }
  p.stop();
  assert.equal(p.out.confirmed.length, 30);
  assertAllOnce(p);
  const remade = [...new Set(p.made.map((m) => m.id))].filter((id) => p.made.filter((m) => m.id === id).length > 1);
  assert.ok(remade.length > 0, 'some bundles were made again');
  for (const id of remade) {
    const tries = p.made.filter((m) => m.id === id);
    assert.ok(tries[0]!.context > 0 && tries.at(-1)!.context === 0, `${id}: ${JSON.stringify(tries)}`);
  }
});

test('session context: a new session mid-transfer makes the bundles of the old one again; every message arrives once', async () => {
  const p = pair(30, 3);
  p.start();
  const end = p.clock.now() + 3_600_000;
  let restarted = false;
  while (p.out.confirmed.length < 30 && p.clock.now() < end) {
    await p.clock.runUntil(p.clock.now() + 500, 20_000);
    // Bravo's process dies while a bundle made against the history is on the air.
    if (!restarted && p.out.confirmed.length >= 12 && p.made.some((m) => m.context > 0 && !p.out.confirmed.includes(m.id))) {
      p.restartBravo();
      restarted = true;
    }
  }
  p.stop();
  assert.ok(restarted);
  assert.equal(p.out.confirmed.length, 30);
  assertAllOnce(p);
  assert.ok(p.alpha.sender.stats.remade > 0, 'bundles of the old session were made again');
});

test('session context: lost CUSTODY frames leave slots out of the history, and what follows still decodes', async () => {
  const CUSTODY = (PROTOCOL_VERSION << 4) | FrameType.CUSTODY;
  let lost = 0;
  const p = pair(30, 4, { toAlpha: (f) => !(f[0] === CUSTODY && lost++ % 3 === 0) });
  p.start();
  assert.ok(await p.runUntilDone(3_600_000), `custody for ${p.out.confirmed.length} of 30`);
  p.stop();
  assert.ok(lost >= 3, `${lost} custody frames lost`);
  assertAllOnce(p);
  assert.deepEqual(p.refusedHere, [], 'no bundle failed to decode');
  assert.ok(p.made.some((m) => m.context > 0));
});

test('session context: a message sent against the history, its session ended before custody, then its deadline: asked, never withdrawn while the peer holds it', async () => {
  // Once alpha has heard a few custodies (so later bundles are made against the history), bravo's CUSTODY
  // frames are lost until it restarts: alpha never hears that bravo holds the rest of the first session's
  // messages, and their bundles are made again for the next one. Their deadline passes then.
  const CUSTODY = (PROTOCOL_VERSION << 4) | FrameType.CUSTODY;
  let deaf = false;
  const p = pair(30, 5, { toAlpha: (f) => !(deaf && f[0] === CUSTODY), deadlines: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [i, 200_000])) });
  p.start();
  const end = p.clock.now() + 3_600_000;
  while (p.accepted.size < 30 && p.clock.now() < end) {
    await p.clock.runUntil(p.clock.now() + 500, 20_000);
    if (p.out.confirmed.length >= 4) deaf = true;
  }
  assert.equal(p.accepted.size, 30, 'bravo took every message in the first session');
  const heldUnheard = [...p.contents.keys()].filter((id) => !p.out.confirmed.includes(id) && p.made.some((m) => m.id === id && m.context > 0));
  assert.ok(heldUnheard.length > 0, 'some of them were made against the history and their custody not heard');
  assert.ok(p.out.confirmed.length < 30, 'some custodies were not heard');
  p.restartBravo();
  deaf = false;
  // Past the deadline before anything more is heard.
  await p.clock.runUntil(Math.max(p.clock.now(), p.t0 + 200_500), 20_000);
  while (p.out.confirmed.length + p.out.withdrawn.length < 30 && p.clock.now() < end) await p.clock.runUntil(p.clock.now() + 1000, 20_000);
  p.stop();
  assert.deepEqual(p.out.withdrawn, [], 'withdrawn while the peer held it');
  assert.equal(p.out.confirmed.length, 30);
  assertAllOnce(p);
});

test('session context: a bundle made again for a new session still went on the air: its deadline asks the peer (CANCEL), never withdraws it here', () => {
  const limits = { maxFrame: 512, window: 64, dictionaries: [0, 1, 2] };
  const s = new Sender('bravo', new MemoryProgressStore(), 'priority', limits, () => 1_000);
  s.reset(limits);
  const rng = new SeededRandom(8);
  const content = mail(1, rng);
  // The peer holds a message of this session (slot 1), so the next bundle is made against it.
  s.history.add(1, mail(0, rng));
  s.add([{ id: 'm1', priority: 0, queuedAt: 0, deadline: 5_000, bundle: (_d: readonly number[], ctx?: BundleContext) => encodeBundle(bundleOf('m1', content), 2, ctx) }]);
  const sent: string[] = [];
  for (let r = s.next(); r; r = s.next()) if (r.id) sent.push(r.id);
  assert.ok(sent.includes('m1'), 'it went on the air');
  // A new session: the bundle is void and will be made again when the scheduler gets to it; meanwhile the
  // deadline passes. The peer may hold the message (its custody may simply not have been heard).
  s.reset(limits);
  assert.equal(s.stats.remade, 1);
  assert.equal(s.cancel('m1'), 'asked');
});
