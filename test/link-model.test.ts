// Model check of the link's one rule: every message ends in exactly one outcome known to both sides — held by
// the peer (custody here, delivered once there, byte-identical), or withdrawn/refused here and never delivered
// there — under traffic both ways, deadlines, lost CUSTODY/TURN/CANCEL frames, forged hellos, mismatched
// profiles, refusing sinks and restarts, all in virtual time. A failing case prints its seed and replays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KissDecoder } from '../src/codec/kiss.ts';
import { CtrlFlag, FrameType, RecordKind } from '../src/codec/link-frame.ts';
import { LinkRefusal, LinkStation, MemoryProgressStore, type LinkPort, type OutboundItem, type OutboundSource } from '../src/link/index.ts';
import { createChannel, type SimPort } from '../sim/channel.ts';
import { forgedHello } from '../sim/run-scenario.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

const KEY = new TextEncoder().encode('model check key, alpha and bravo');

/** The queue as the link sees it, durable across a station's restart: it remembers when a bundle was made. */
class ModelOutbound implements OutboundSource {
  readonly items = new Map<string, OutboundItem>();
  readonly madeAt = new Map<string, number>();
  readonly outcomes = new Map<string, string[]>();
  listener?: () => void;
  constructor(private readonly clock: VirtualClock) {}
  add(id: string, priority: number, bytes: Uint8Array, deadline?: number): void {
    const item: OutboundItem = {
      id,
      priority,
      queuedAt: this.clock.now(),
      size: bytes.length,
      bundle: () => {
        if (!this.madeAt.has(id)) this.madeAt.set(id, this.clock.now());
        return bytes;
      },
      ...(deadline !== undefined ? { deadline } : {}),
    };
    this.items.set(id, item);
    this.listener?.();
  }
  pending(): readonly OutboundItem[] {
    return [...this.items.values()].map((i) => (this.madeAt.has(i.id) ? { ...i, madeAt: this.madeAt.get(i.id)! } : i));
  }
  private settle(id: string, what: string): void {
    this.outcomes.set(id, [...(this.outcomes.get(id) ?? []), what]);
    this.items.delete(id);
  }
  custodyConfirmed(id: string): void {
    this.settle(id, 'custody');
  }
  expired(id: string): void {
    this.settle(id, 'withdrawn');
  }
  refused(id: string, status: string): void {
    this.settle(id, `refused ${status}`);
  }
}

/** Drops, before they go on the air, frames of the kinds a case names, each with its probability. */
function lossyPort(port: SimPort, rng: SeededRandom, drop: { custody: number; turn: number; cancel: number }): LinkPort {
  const dec = new KissDecoder(4096);
  return {
    write(bytes) {
      for (const f of dec.push(bytes)) {
        const p = f.payload;
        const type = p[0]! & 0x0f;
        const hit =
          (type === FrameType.CUSTODY && rng.next() < drop.custody) ||
          (type === FrameType.CTRL && (p[3]! & CtrlFlag.TURN) !== 0 && rng.next() < drop.turn) ||
          (type === FrameType.RECORD && (p[3] === RecordKind.CANCEL || p[3] === RecordKind.CANCELLED) && rng.next() < drop.cancel);
        if (!hit) return port.write(bytes);
      }
    },
    onData: (l) => port.onData(l),
    onClose: (l) => port.onClose(l),
    close: () => port.close(),
  };
}

interface Case {
  seed: number;
  ber: number;
  fade?: { at: number; ms: number } | undefined;
  drop: { custody: number; turn: number; cancel: number };
  frames: [number, number];
  windows: [number, number];
  forgedEveryMs?: number | undefined;
  refuseEvery: number;
  transientEvery: number;
  restarts: { at: number; side: 'a' | 'b' }[];
  messages: { from: 'a' | 'b'; size: number; priority: number; at: number; deadlineS?: number | undefined }[];
}

async function runCase(c: Case) {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const rng = new SeededRandom(c.seed);
  const channel = createChannel(
    { bitRate: 2400, duplex: 'half', turnaroundMs: 800, ber: c.ber, outages: c.fade ? [{ atMs: c.fade.at, durationMs: c.fade.ms }] : [] },
    clock,
    rng.fork(),
  );
  const lossRng = rng.fork();
  const stationRng = rng.fork();
  const sides = (['a', 'b'] as const).map((name, i) => {
    const station = name === 'a' ? 'alpha' : 'bravo';
    const peer = name === 'a' ? 'bravo' : 'alpha';
    const out = new ModelOutbound(clock);
    const progress = new MemoryProgressStore();
    const delivered = new Map<string, Uint8Array[]>();
    const port = lossyPort(name === 'a' ? channel.a : channel.b, lossRng.fork(), c.drop);
    let accepts = 0;
    const side = {
      name,
      out,
      progress,
      delivered,
      station: undefined as unknown as LinkStation,
      make() {
        side.station = new LinkStation(
          { station, peer, key: KEY, role: name === 'a' ? 'caller' : 'answerer', duplex: 'half', bitRate: 2400, turnaroundMs: 800, maxFrame: c.frames[i]!, window: c.windows[i]!, maxOverMs: 8000, dictionaries: [0, 1] },
          {
            clock,
            random: stationRng.fork(),
            port,
            source: out,
            progress,
            sink: {
              accept: async (id, bytes) => {
                const n = ++accepts;
                if (c.refuseEvery > 0 && Number(id.split('-')[1]) % c.refuseEvery === 0) throw new LinkRefusal('5.6.0', 'refused by the model');
                if (c.transientEvery > 0 && n % c.transientEvery === 0) throw new Error('disk full (model)');
                // The store's own duplicate check, as the gateway's: taking an id twice is a failure here.
                delivered.set(id, [...(delivered.get(id) ?? []), Uint8Array.from(bytes)]);
              },
            },
          },
        );
        out.listener = () => side.station.notify();
        side.station.start();
      },
    };
    side.make();
    return side;
  });
  const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const sent = new Map<string, { bytes: Uint8Array; from: 'a' | 'b' }>();
  c.messages.forEach((m, i) => {
    const id = `${m.from}-${i}`;
    const bytes = new SeededRandom(c.seed + i).bytes(m.size);
    sent.set(id, { bytes, from: m.from });
    clock.setTimer(m.at, () => (m.from === 'a' ? a : b).out.add(id, m.priority, bytes, m.deadlineS !== undefined ? clock.now() + m.deadlineS * 1000 : undefined));
  });
  for (const r of c.restarts)
    clock.setTimer(r.at, () => {
      const s = r.side === 'a' ? a : b;
      s.station.stop();
      s.make();
    });
  if (c.forgedEveryMs) {
    const forge = new SeededRandom(c.seed ^ 0x5eed);
    for (let t = c.forgedEveryMs, k = 0; t < 3_600_000; t += c.forgedEveryMs, k++)
      clock.setTimer(t, () => channel.inject(k % 2 ? 'a' : 'b', forgedHello(k % 2 ? 'bravo' : 'alpha', forge.bytes(16))));
  }
  const limit = t0 + 4 * 3_600_000;
  while (clock.now() < limit) {
    await clock.runUntil(Math.min(limit, clock.now() + 60_000));
    if ([...sent.keys()].every((id) => (sent.get(id)!.from === 'a' ? a : b).out.outcomes.has(id))) break;
  }
  for (const s of sides) s.station.stop();
  return { sent, a, b, seconds: (clock.now() - t0) / 1000 };
}

function check(c: Case, r: Awaited<ReturnType<typeof runCase>>): void {
  const info = `seed ${c.seed} (${JSON.stringify({ ...c, messages: c.messages.length })})`;
  for (const [id, m] of r.sent) {
    const here = m.from === 'a' ? r.a : r.b;
    const there = m.from === 'a' ? r.b : r.a;
    const outcomes = here.out.outcomes.get(id) ?? [];
    const got = there.delivered.get(id) ?? [];
    assert.equal(outcomes.length, 1, `${info}: ${id} has outcomes [${outcomes}] after ${r.seconds} s (delivered ${got.length} times)`);
    assert.ok(got.length <= 1, `${info}: ${id} delivered ${got.length} times`);
    if (outcomes[0] === 'custody') {
      assert.equal(got.length, 1, `${info}: ${id} in custody but never delivered`);
      assert.ok(Buffer.from(got[0]!).equals(Buffer.from(m.bytes)), `${info}: ${id} differs`);
    } else assert.equal(got.length, 0, `${info}: ${id} ${outcomes[0]} at the sender, yet delivered at the peer`);
    if (outcomes[0]!.startsWith('refused')) assert.equal(outcomes[0], 'refused 5.6.0', `${info}: ${id}`);
  }
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  seed: fc.nat(1e6),
  ber: fc.constantFrom(0, 1e-5, 1e-4),
  fade: fc.option(fc.record({ at: fc.integer({ min: 0, max: 120_000 }), ms: fc.integer({ min: 1000, max: 60_000 }) }), { nil: undefined }),
  drop: fc.record({ custody: fc.constantFrom(0, 0.3, 0.7), turn: fc.constantFrom(0, 0.2, 0.5), cancel: fc.constantFrom(0, 0.3, 0.7) }),
  frames: fc.tuple(fc.constantFrom(64, 128, 200, 512, 1024), fc.constantFrom(64, 128, 256, 1024)),
  windows: fc.tuple(fc.constantFrom(2, 8, 32), fc.constantFrom(4, 16, 128)),
  forgedEveryMs: fc.option(fc.constantFrom(7000, 20_000), { nil: undefined }),
  refuseEvery: fc.constantFrom(0, 0, 5),
  transientEvery: fc.constantFrom(0, 0, 4),
  restarts: fc.array(fc.record({ at: fc.integer({ min: 1000, max: 200_000 }), side: fc.constantFrom('a' as const, 'b' as const) }), { maxLength: 2 }),
  messages: fc.array(
    fc.record({
      from: fc.constantFrom('a' as const, 'b' as const),
      size: fc.integer({ min: 1, max: 5000 }),
      priority: fc.integer({ min: -2, max: 2 }),
      at: fc.integer({ min: 0, max: 60_000 }),
      deadlineS: fc.option(fc.integer({ min: 5, max: 200 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 7 },
  ),
});

test('model check: both ways, deadlines, lost custody/turn/cancel frames, forged hellos, mismatched profiles, refusals, restarts: one outcome each', async () => {
  const seed = Number(process.env['HFMAIL_MODEL_SEED'] ?? 20261201);
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => check(c, await runCase(c))),
    { numRuns: Number(process.env['HFMAIL_MODEL_RUNS'] ?? 150), seed },
  );
});

test('lost CUSTODY with traffic both ways never stalls the link (was: 1 seed in 8 silent for good)', async () => {
  for (let seed = 1; seed <= 8; seed++) {
    const c: Case = {
      seed,
      ber: 0,
      drop: { custody: 0.5, turn: 0.05, cancel: 0 },
      frames: [256, 256],
      windows: [32, 32],
      refuseEvery: 0,
      transientEvery: 0,
      restarts: [],
      messages: Array.from({ length: 6 }, (_, i) => ({ from: i % 2 ? ('b' as const) : ('a' as const), size: 800 + 300 * i, priority: 0, at: i * 2000 })),
    };
    const r = await runCase(c);
    check(c, r);
    assert.ok(r.seconds < 1200, `seed ${seed}: took ${r.seconds} s`);
  }
});

test('a deadline that passes while the CUSTODY is on the air: the CANCEL is answered with CUSTODY, one outcome (was: delivered there and failed here)', async () => {
  // One message whose transfer ends just before its deadline; every CUSTODY frame is lost, so the sender's
  // deadline passes with the message committed at the peer.
  const c: Case = {
    seed: 7,
    ber: 0,
    drop: { custody: 1, turn: 0, cancel: 0 },
    frames: [256, 256],
    windows: [32, 32],
    refuseEvery: 0,
    transientEvery: 0,
    restarts: [],
    messages: [{ from: 'a', size: 2000, priority: 0, at: 0, deadlineS: 20 }],
  };
  // With every CUSTODY frame lost the answer can only be the CUSTODY... which is lost too: the message stays
  // open (not failed) and both sides agree it is not withdrawn. Then custody gets through: it settles as custody.
  const stuck = await runCase({ ...c, messages: c.messages });
  const outcomes = stuck.a.out.outcomes.get('a-0') ?? [];
  assert.deepEqual(outcomes, [], 'no outcome may be written while the peer holds the message and its custody is lost');
  assert.equal(stuck.b.delivered.get('a-0')?.length, 1);
  const heard = await runCase({ ...c, drop: { custody: 0.8, turn: 0, cancel: 0 } });
  check(c, heard);
  assert.deepEqual(heard.a.out.outcomes.get('a-0'), ['custody']);
});
