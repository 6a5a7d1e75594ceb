import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { decodeBundle, encodeHello, encodeKiss, FrameType, isCodecError, NONCE_BYTES, PROTOCOL_VERSION, type BundleContext } from '../src/codec/index.ts';
import { LinkRefusal, LinkStation, MemoryOutbound, MemoryProgressStore, type InboundSink, type LinkEvent, type SchedulerMode } from '../src/link/index.ts';
import { createChannel, type AttackerStats, type ChannelEnd } from './channel.ts';
import { channelOptions, loadScenario, scenarioMessages, type Scenario, type ScenarioMessage } from './scenario.ts';
import { SeededRandom } from './seeded-random.ts';
import { commonDictionary, simBundle } from './sim-bundle.ts';
import { VirtualClock } from './virtual-clock.ts';

export interface RunOptions {
  readonly seed?: number;
  readonly scheduler?: SchedulerMode;
  /**
   * Turns a message into the bytes that cross the link (the bundle codec), compressed with `dictionary` (the
   * best one both stations hold; 0 is none). Default `simBundle`. The receiving side decodes what arrives as a
   * gateway does, so it must be a bundle.
   */
  readonly bundle?: (m: ScenarioMessage, dictionary: number, context?: BundleContext) => Uint8Array;
  /** Folder that relative message files are read from. */
  readonly baseDir?: string;
  /** Each station's link events, with the virtual time (for tracing a run). */
  readonly onEvent?: (station: 'alpha' | 'bravo', at: number, e: LinkEvent) => void;
}

export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export interface RunResult {
  scenario: string;
  seed: number;
  scheduler: SchedulerMode;
  /** Messages submitted, both directions. */
  messages: number;
  /** Delivered intact (decoded content equal to what was sent), counted once. */
  delivered: number;
  /** Neither delivered nor withdrawn nor refused. */
  lost: number;
  /** The same as `withdrawn` (the older name). */
  expired: number;
  /** Withdrawn from the link after their deadline (MemoryOutbound.withdrawn, both sides). */
  withdrawn: number;
  /** Refused by the peer (MemoryOutbound.refusals, both sides). */
  refused: number;
  duplicates: number;
  corrupted: number;
  /** Per direction: alpha->bravo are the messages `from: a`, bravo->alpha those `from: b`. */
  directions: { aToB: { messages: number; delivered: number }; bToA: { messages: number; delivered: number } };
  bytesOnAir: { aToB: number; bToA: number };
  payloadBytes: number;
  bundleBytes: number;
  goodputRatio: number;
  /** When the last message was delivered, s after the start. */
  simulatedSeconds: number;
  /**
   * Longest span, s, during which a message was queued and not settled (confirmed, withdrawn or refused) and no
   * progress was made: no new in-order bytes saved by either receiver, no delivery, no settlement.
   */
  longestStallS: number;
  overs: number;
  /** Key-ups of both stations (the same as `overs`). */
  keyUps: number;
  latencyByPriority: Record<string, LatencyStats>;
  meanBytesOnAirPerMessage: number;
  meanGzipBytesPerMessage: number;
  authBytes: number;
  retransmissions: number;
  bitErrors: number;
  /** The third transmitter's figures (all 0 without `attack`); `hellos` is the forged hellos sent. */
  attacker: AttackerStats & { hellos: number };
  events: number;
  deliveryOrder: string[];
}

const KEY = new TextEncoder().encode('hfmail simulator shared key');
const NAMES = { a: 'alpha', b: 'bravo' } as const;
const peerOf = (s: ChannelEnd): ChannelEnd => (s === 'a' ? 'b' : 'a');

interface Delivery {
  readonly id: string;
  readonly at: number;
  /** The station that took it. */
  readonly to: ChannelEnd;
  readonly bundleBytes: number;
  readonly content: Uint8Array;
}

/** MemoryOutbound that reports each message it settles (confirmed, withdrawn or refused). */
class SimOutbound extends MemoryOutbound {
  constructor(private readonly onSettle: () => void) {
    super();
  }
  private settling(before: number, after: () => number): void {
    if (after() !== before) this.onSettle();
  }
  override custodyConfirmed(id: string): void {
    const n = this.confirmed.length;
    super.custodyConfirmed(id);
    this.settling(n, () => this.confirmed.length);
  }
  override expired(id: string): void {
    const n = this.withdrawn.length;
    super.expired(id);
    this.settling(n, () => this.withdrawn.length);
  }
  override refused(id: string, status: string, text: string): void {
    const n = this.refusals.length;
    super.refused(id, status, text);
    this.settling(n, () => this.refusals.length);
  }
  get settled(): number {
    return this.confirmed.length + this.withdrawn.length + this.refusals.length;
  }
}

/**
 * Runs one scenario between two link stations over the simulated channel, in virtual time: alpha (a, the
 * caller) and bravo (b, the answerer) each send their own messages, and an attacker may forge hellos.
 */
export async function runScenario(s: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const seed = opts.seed ?? s.seed;
  const rng = new SeededRandom(seed);
  const clock = new VirtualClock();
  const t0 = clock.now();
  const L = s.link;
  const makeBundle = opts.bundle ?? simBundle;
  const channel = createChannel(channelOptions(L), clock, rng.fork());
  const gen = rng.fork();
  const messages = scenarioMessages(s, () => gen.next(), opts.baseDir ?? process.cwd());
  const byId = new Map(messages.map((m) => [m.id, m]));
  const scheduler = opts.scheduler ?? 'priority';
  const common = {
    key: KEY,
    duplex: L.duplex,
    bitRate: L.bitRate,
    bitsPerByte: L.bitsPerByte,
    turnaroundMs: L.turnaroundMs,
    latencyMs: L.propagationMs + 20,
    maxOverMs: L.overMs,
    scheduler,
  } as const;

  // Stall accounting: a window opens when work is pending and closes at the next progress.
  let pending = 0;
  let stallFrom: number | undefined;
  let longestStall = 0;
  const closeStall = () => {
    if (stallFrom !== undefined) longestStall = Math.max(longestStall, clock.now() - stallFrom);
    stallFrom = pending > 0 ? clock.now() : undefined;
  };
  const progress = () => closeStall();
  const queued = () => {
    pending++;
    stallFrom ??= clock.now();
  };
  const settled = () => {
    pending--;
    closeStall();
  };

  const deliveries: Delivery[] = [];
  const station = (me: ChannelEnd) => {
    const cfg = L[me];
    const out = new SimOutbound(settled);
    const store = new MemoryProgressStore();
    // New in-order bytes saved by this receiver are progress; a transfer started over from 0 is not, until it
    // passes what was saved before.
    const saved = new Map<string, number>();
    const append = store.appendReceived.bind(store);
    store.appendReceived = (peer, id, offset, data) => {
      append(peer, id, offset, data);
      const end = offset + data.length;
      if (end > (saved.get(id) ?? 0)) {
        saved.set(id, end);
        progress();
      }
    };
    // As a gateway does: decode with the dictionaries this side holds, refuse what it cannot read.
    const sink: InboundSink = {
      accept: async (id, bytes, _openedAt, history) => {
        const b = decodeBundle(bytes, { maxContent: 64 * 1024 * 1024, maxRecipients: 1000, dictionaries: cfg.dictionaries }, history, id);
        // One compressed against the session's history that does not decode is sent again without (4.6.0).
        if (isCodecError(b)) throw new LinkRefusal(history ? '4.6.0' : '5.6.0', `bundle ${id} cannot be decoded here: ${b.error}: ${b.detail}`);
        if (b.id !== id) throw new LinkRefusal('5.6.0', `bundle ${id} names itself ${b.id}`);
        deliveries.push({ id, at: clock.now(), to: me, bundleBytes: bytes.length, content: b.content });
        progress();
      },
    };
    const link = new LinkStation(
      { ...common, station: NAMES[me], peer: NAMES[peerOf(me)], role: me === 'a' ? 'caller' : 'answerer', maxFrame: cfg.frameSize, window: cfg.window, dictionaries: cfg.dictionaries },
      { clock, random: rng.fork(), port: channel[me], source: out, sink, progress: store, ...(opts.onEvent ? { onEvent: (e: LinkEvent) => opts.onEvent!(NAMES[me], clock.now() - t0, e) } : {}) },
    );
    out.onAdd(() => link.notify());
    return { out, link };
  };
  const alpha = station('a');
  const bravo = station('b');
  const sides = { a: alpha, b: bravo };

  for (const m of messages) {
    const mine = L[m.from].dictionaries;
    const peer = L[peerOf(m.from)].dictionaries;
    // Made ahead with the dictionary the scenario gives both sides, for the size estimate; used if the hello agrees.
    const best = commonDictionary(mine, peer);
    const estimate = makeBundle(m, best);
    const bundle = (peerDictionaries: readonly number[] | undefined, context?: BundleContext) => {
      // A link that does not pass the peer's hello dictionaries gets the ones the scenario gave the peer.
      const d = commonDictionary(mine, Array.isArray(peerDictionaries) ? peerDictionaries : peer);
      if (context) return makeBundle(m, d, context);
      return d === best ? estimate : makeBundle(m, d);
    };
    clock.setTimer(m.atMs, () => {
      queued();
      sides[m.from].out.add({ id: m.id, priority: m.priority, queuedAt: clock.now(), bundle, size: estimate.length, ...(m.deadlineMs !== undefined ? { deadline: t0 + m.deadlineMs } : {}) });
    });
  }

  // The attacker: every forgedHelloEveryMs from the start, a CRC-valid hello claiming to be alpha (for bravo's
  // ears), then one claiming to be bravo (for alpha's), and so on. Its stream is forked after the stations'.
  let hellos = 0;
  let attackTimer: { cancel(): void } | undefined;
  if (s.attack) {
    const every = s.attack.forgedHelloEveryMs;
    const arng = rng.fork();
    const forge = () => {
      const target: ChannelEnd = hellos % 2 === 0 ? 'b' : 'a';
      channel.inject(target, forgedHello(NAMES[peerOf(target)], arng.bytes(NONCE_BYTES)));
      hellos++;
      attackTimer = clock.setTimer(every, forge);
    };
    attackTimer = clock.setTimer(every, forge);
  }

  alpha.link.start();
  bravo.link.start();

  const limit = t0 + s.timeLimitS * 1000;
  for (;;) {
    const more = await clock.runUntil(Math.min(clock.now() + 10_000, limit));
    if (alpha.out.settled + bravo.out.settled >= messages.length || !more || clock.now() >= limit) break;
  }
  closeStall();
  attackTimer?.cancel();
  alpha.link.stop();
  bravo.link.stop();

  const seen = new Map<string, number>();
  const intact = new Set<string>();
  let corrupted = 0;
  const latencies = new Map<number, number[]>();
  let payloadBytes = 0;
  let bundleBytes = 0;
  for (const d of deliveries) {
    seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
    if (seen.get(d.id)! > 1) continue;
    const sent = byId.get(d.id);
    if (!sent || d.to !== peerOf(sent.from) || !Buffer.from(d.content).equals(Buffer.from(sent.content))) {
      corrupted++;
      continue;
    }
    intact.add(d.id);
    payloadBytes += sent.content.length;
    bundleBytes += d.bundleBytes;
    const lat = (d.at - (t0 + sent.atMs)) / 1000;
    latencies.set(sent.priority, [...(latencies.get(sent.priority) ?? []), lat]);
  }
  const withdrawn = new Set([...alpha.out.withdrawn, ...bravo.out.withdrawn]);
  const refused = new Set([...alpha.out.refusals, ...bravo.out.refusals].map((r) => r.id));
  const lastDelivery = deliveries.length ? Math.max(...deliveries.map((d) => d.at)) : t0;
  const simulatedSeconds = (lastDelivery - t0) / 1000;
  const onAir = channel.a.stats.bytesOnAir + channel.b.stats.bytesOnAir;
  const gzipTotal = messages.reduce((a, m) => a + gzipSync(m.content, { level: 9 }).length, 0);
  const direction = (from: ChannelEnd) => {
    const ms = messages.filter((m) => m.from === from);
    return { messages: ms.length, delivered: ms.filter((m) => intact.has(m.id)).length };
  };
  const keyUps = channel.a.stats.keyUps + channel.b.stats.keyUps;
  return {
    scenario: s.name,
    seed,
    scheduler,
    messages: messages.length,
    delivered: intact.size,
    lost: messages.filter((m) => !intact.has(m.id) && !withdrawn.has(m.id) && !refused.has(m.id)).length,
    expired: withdrawn.size,
    withdrawn: withdrawn.size,
    refused: refused.size,
    duplicates: [...seen.values()].reduce((a, n) => a + n - 1, 0),
    corrupted,
    directions: { aToB: direction('a'), bToA: direction('b') },
    bytesOnAir: { aToB: channel.a.stats.bytesOnAir, bToA: channel.b.stats.bytesOnAir },
    payloadBytes,
    bundleBytes,
    goodputRatio: simulatedSeconds > 0 ? (payloadBytes * 8) / (L.bitRate * simulatedSeconds) : 0,
    simulatedSeconds,
    longestStallS: longestStall / 1000,
    overs: keyUps,
    keyUps,
    latencyByPriority: Object.fromEntries([...latencies].sort((a, b) => b[0] - a[0]).map(([p, l]) => [String(p), summarize(l)])),
    meanBytesOnAirPerMessage: messages.length ? onAir / messages.length : 0,
    meanGzipBytesPerMessage: messages.length ? gzipTotal / messages.length : 0,
    authBytes: alpha.link.stats.authBytes + bravo.link.stats.authBytes,
    retransmissions: alpha.link.sender.stats.retransmissions + bravo.link.sender.stats.retransmissions,
    bitErrors: channel.a.stats.bitErrors + channel.b.stats.bitErrors,
    attacker: { ...channel.stats.attacker, hellos },
    events: clock.events,
    deliveryOrder: deliveries.map((d) => d.id),
  };
}

/** What the attacker sends: a CRC-valid HELLO claiming to be `station`, in a KISS data frame for port 0. */
export function forgedHello(station: string, nonce: Uint8Array): Uint8Array {
  const frame = encodeHello({ type: FrameType.HELLO, version: PROTOCOL_VERSION, station, nonce, caps: { maxFrame: 256, window: 8, dictionaries: [0] } });
  return encodeKiss(frame, 0, 0);
}

function summarize(values: number[]): LatencyStats {
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { count: v.length, p50: r(q(0.5)), p95: r(q(0.95)), max: r(v[v.length - 1]!) };
}

export async function runScenarioFile(file: string, opts: Omit<RunOptions, 'baseDir'> = {}): Promise<RunResult> {
  return runScenario(loadScenario(file), { ...opts, baseDir: path.dirname(path.resolve(file)) });
}
