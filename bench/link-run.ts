// Two real link stations over the simulator's channel in virtual time, for the benchmarks: like
// sim/run-scenario.ts, but the messages are given as data (their bundles made by the caller, as the gateway
// makes them) and every byte a station puts on the air is attributed: RECORD frames to the message whose
// transfer they carry, CUSTODY frames to the messages they confirm, the rest (hello, AUTH, acknowledgements,
// turns) to the session.
import { decodeBundle, isCodecError, type BundleContext } from '../src/codec/index.ts';
import { ByteReader } from '../src/codec/byte-io.ts';
import { KissDecoder } from '../src/codec/kiss.ts';
import { contentOf } from '../src/gateway/link-bundle.ts';
import { LinkStation, MemoryOutbound, MemoryProgressStore, type InboundSink, type LinkPort, type SchedulerMode } from '../src/link/index.ts';
import { createChannel, type ChannelEnd } from '../sim/channel.ts';
import { channelOptions, parseScenario, type ScenarioLink } from '../sim/scenario.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

export interface LinkSpec {
  bitRate: number;
  turnaroundMs: number;
  propagationMs?: number;
  duplex?: 'half' | 'full';
  ber?: number | { good: number; bad: number; pGoodToBad: number; pBadToGood: number };
  frameSize: number;
  window?: number;
  overMs?: number;
}

export interface BenchMessage {
  readonly id: string;
  readonly priority?: number;
  readonly atMs?: number;
  readonly content: Uint8Array;
  /** The bundle for the best dictionary both stations hold (`dictionary`), against the session's history if offered. */
  readonly bundle: (dictionary: number, context?: BundleContext) => Uint8Array;
}

export interface LinkRun {
  messages: number;
  delivered: number;
  /** Bytes both stations put on the air. */
  onAir: number;
  /** Attributed to each message (by id): its records and custody, and none of the session's share. */
  perMessage: Map<string, number>;
  /** Hello, AUTH, acknowledgements and turns: bytes no message's frames carry. */
  session: number;
  bundleBytes: number;
  /** Each message's bundle as it crossed (made when its transfer opened, against the history then). */
  bundleSize: Map<string, number>;
  contentBytes: number;
  /** When the last message was in the peer's custody, s after the start. */
  seconds: number;
  overs: number;
  retransmissions: number;
  latencyS: Map<string, number>;
  /** Where the bytes on the air went, both stations together. */
  breakdown: AirBreakdown;
}

/**
 * Bytes on the air by what they carry: the bundles' own bytes in RECORD segments, the RECORD headers around them
 * (type, sequence, kind, transfer, offset and the OPEN's fields), MACs, KISS framing (two FENDs and the command
 * byte) and KISS escapes, CTRL and CUSTODY frames (less their MACs), and the hello (HELLO, HELLO_REPLY, AUTH).
 */
export interface AirBreakdown {
  frames: number;
  segments: number;
  recordHeaders: number;
  macs: number;
  kissFraming: number;
  kissEscapes: number;
  ctrl: number;
  custody: number;
  hello: number;
}

const KEY = new TextEncoder().encode('hfmail benchmark shared key');
const NAMES = { a: 'alpha', b: 'bravo' } as const;

/** The scenario link the simulator's schema makes of `spec` (defaults filled in, as a scenario file would be). */
export function scenarioLink(spec: LinkSpec): ScenarioLink {
  return parseScenario({ name: 'bench', seed: 1, link: { propagationMs: 10, duplex: 'half', ber: 0, window: 256, overMs: 30_000, ...spec }, messages: [{ atMs: 0, sizeBytes: 1 }], timeLimitS: 1 }).link;
}

/** The dictionary two stations on `spec` use: the highest version both hold. */
export function linkDictionary(spec: LinkSpec): number {
  const L = scenarioLink(spec);
  return Math.max(0, ...L.a.dictionaries.filter((d) => L.b.dictionaries.includes(d)));
}

function readVarint(b: Uint8Array, at: number): [number, number] | undefined {
  let v = 0;
  for (let i = 0, mul = 1; i < 7 && at + i < b.length; i++, mul *= 128) {
    const x = b[at + i]!;
    v += (x & 0x7f) * mul;
    if (!(x & 0x80)) return [v, at + i + 1];
  }
  return undefined;
}

/**
 * Which message a frame (KISS payload, before the MAC is checked) is for: protocol version 3's RECORD (OPEN names
 * the id and its transfer number, DATA the transfer number) and CUSTODY (each by id or by the transfer number). Undefined for
 * session frames.
 */
function frameOwners(f: Uint8Array, xfers: Map<number, string>, peerXfers: Map<number, string>): string[] {
  const type = f[0]! & 0x0f;
  const text = (at: number) => messageId(f, at);
  if (type === 5 && f.length > 6) {
    const kind = f[3]!;
    const xfer = (f[4]! << 8) | f[5]!;
    if (kind === 1) {
      const total = readVarint(f, 6);
      const id = total && text(total[1]);
      if (id) xfers.set(xfer, id[0]);
      return id ? [id[0]] : [];
    }
    if (kind === 2) return xfers.has(xfer) ? [xfers.get(xfer)!] : [];
    return [];
  }
  if (type === 6 && f.length > 2) {
    const ids: string[] = [];
    let at = 2;
    for (let i = 0; i < f[1]!; i++) {
      const tag = readVarint(f, at);
      if (!tag) break;
      if (tag[0] % 2 === 1) {
        // By the transfer number the peer's OPEN gave.
        const xfer = readVarint(f, tag[1]);
        if (!xfer) break;
        const id = peerXfers.get(xfer[0]);
        if (id) ids.push(id);
        at = xfer[1];
        continue;
      }
      const t = text(tag[1]);
      if (!t) break;
      ids.push(t[0]);
      at = t[1];
    }
    return ids;
  }
  return [];
}

const MAC = 8;

/** A message id in a frame (protocol 3: text, or a zero length and 13 bytes of a packed queue id) and where it ends. */
function messageId(f: Uint8Array, at: number): [string, number] | undefined {
  const r = new ByteReader(f.subarray(at));
  const id = r.messageId(255);
  return id === null ? undefined : [id, f.length - r.remaining];
}

/** Adds one write of a station to the breakdown (`recordHeaders` holds the segments too until the end). */
function tally(air: AirBreakdown, written: number, payloads: readonly Uint8Array[]): void {
  let framed = 0;
  for (const f of payloads) {
    framed += f.length + 3;
    air.frames++;
    air.kissFraming += 3;
    const type = f[0]! & 0x0f;
    if (type === 1 || type === 2 || type === 3) air.hello += f.length;
    else {
      air.macs += MAC;
      if (type === 4) air.ctrl += f.length - MAC;
      else if (type === 6) air.custody += f.length - MAC;
      else if (type === 5) {
        air.recordHeaders += f.length - MAC;
        air.segments += segmentOf(f);
      }
    }
  }
  if (payloads.length) air.kissEscapes += Math.max(0, written - framed);
}

/** The segment bytes of a RECORD frame (protocol 3: OPEN and DATA carry the rest of the frame before the MAC). */
function segmentOf(f: Uint8Array): number {
  const kind = f[3];
  let at = 6; // type, seq (2), kind, xfer (2)
  if (kind === 2) {
    const off = readVarint(f, at);
    return off ? Math.max(0, f.length - MAC - off[1]) : 0;
  }
  if (kind !== 1) return 0;
  const total = readVarint(f, at);
  if (!total) return 0;
  const id = messageId(f, total[1]);
  if (!id) return 0;
  at = id[1] + 8; // id, hash
  for (let i = 0; i < 3; i++) {
    const v = readVarint(f, at); // age, deadline, offset
    if (!v) return 0;
    at = v[1];
  }
  return Math.max(0, f.length - MAC - at);
}

/** Runs `messages` from alpha to bravo until all are in bravo's custody (or `timeLimitS` passes). */
export async function runLink(spec: LinkSpec, messages: readonly BenchMessage[], opts: { seed?: number; scheduler?: SchedulerMode; timeLimitS?: number } = {}): Promise<LinkRun> {
  const L = scenarioLink(spec);
  const rng = new SeededRandom(opts.seed ?? 1);
  const clock = new VirtualClock();
  const t0 = clock.now();
  const channel = createChannel(channelOptions(L), clock, rng.fork());
  const perMessage = new Map<string, number>(messages.map((m) => [m.id, 0]));
  let session = 0;
  const air: AirBreakdown = { frames: 0, segments: 0, recordHeaders: 0, macs: 0, kissFraming: 0, kissEscapes: 0, ctrl: 0, custody: 0, hello: 0 };
  const xfers: Record<ChannelEnd, Map<number, string>> = { a: new Map(), b: new Map() };
  const tapped = (me: ChannelEnd): LinkPort => {
    const inner = channel[me];
    const kiss = new KissDecoder(1 << 16);
    return {
      write(data) {
        const frames = kiss.push(data);
        tally(air, data.length, frames.map((f) => f.payload));
        const owners = frames.map((f) => frameOwners(f.payload, xfers[me], xfers[me === 'a' ? 'b' : 'a']));
        const weights = frames.map((f) => f.payload.length);
        const sum = weights.reduce((a, w) => a + w, 0) || 1;
        frames.forEach((_, i) => {
          const share = (data.length * weights[i]!) / sum;
          const who = owners[i]!.filter((id) => perMessage.has(id));
          if (who.length === 0) session += share;
          else for (const id of who) perMessage.set(id, perMessage.get(id)! + share / who.length);
        });
        if (frames.length === 0) session += data.length;
        inner.write(data);
      },
      onData: (l) => inner.onData(l),
      onClose: (l) => inner.onClose(l),
      close: () => inner.close(),
    };
  };
  const common = { key: KEY, duplex: L.duplex, bitRate: L.bitRate, bitsPerByte: L.bitsPerByte, turnaroundMs: L.turnaroundMs, latencyMs: L.propagationMs + 20, maxOverMs: L.overMs, scheduler: opts.scheduler ?? 'priority' } as const;
  const delivered = new Map<string, number>();
  let bundleBytes = 0;
  const bundleSize = new Map<string, number>();
  const byId = new Map(messages.map((m) => [m.id, m]));
  const out = new MemoryOutbound();
  const station = (me: ChannelEnd, source: MemoryOutbound) => {
    const cfg = L[me];
    const sink: InboundSink = {
      accept: async (id, bytes, _openedAt, history) => {
        const b = decodeBundle(bytes, { maxContent: 64 * 1024 * 1024, maxRecipients: 1000, dictionaries: cfg.dictionaries }, history, id);
        if (isCodecError(b)) throw new Error(`bundle ${id}: ${b.error}`);
        if (!Buffer.from(contentOf(b)).equals(Buffer.from(byId.get(id)!.content))) throw new Error(`bundle ${id} arrived different`);
        if (!delivered.has(id)) {
          delivered.set(id, clock.now());
          bundleBytes += bytes.length;
          bundleSize.set(id, bytes.length);
        }
      },
    };
    const link = new LinkStation(
      { ...common, station: NAMES[me], peer: NAMES[me === 'a' ? 'b' : 'a'], role: me === 'a' ? 'caller' : 'answerer', maxFrame: cfg.frameSize, window: cfg.window, dictionaries: cfg.dictionaries },
      { clock, random: rng.fork(), port: tapped(me), source, sink, progress: new MemoryProgressStore() },
    );
    source.onAdd(() => link.notify());
    return link;
  };
  const alpha = station('a', out);
  const bravo = station('b', new MemoryOutbound());
  const dictionary = Math.max(0, ...L.a.dictionaries.filter((d) => L.b.dictionaries.includes(d)));
  messages.forEach((m, i) => {
    // Made when its transfer opens, as the gateway does, so that it can be compressed against the session's history.
    const alone = m.bundle(dictionary);
    const bundle = (_dictionaries: readonly number[], context?: BundleContext) => (context ? m.bundle(dictionary, context) : alone);
    clock.setTimer(m.atMs ?? 0, () => out.add({ id: m.id, priority: m.priority ?? 0, queuedAt: clock.now() + i * 1e-6, bundle, size: alone.length }));
  });
  alpha.start();
  bravo.start();
  const limit = t0 + (opts.timeLimitS ?? 36_000) * 1000;
  for (;;) {
    const more = await clock.runUntil(Math.min(clock.now() + 10_000, limit));
    if (out.confirmed.length + out.withdrawn.length + out.refusals.length >= messages.length || !more || clock.now() >= limit) break;
  }
  alpha.stop();
  bravo.stop();
  const last = Math.max(t0, ...delivered.values());
  return {
    messages: messages.length,
    delivered: delivered.size,
    onAir: channel.a.stats.bytesOnAir + channel.b.stats.bytesOnAir,
    perMessage,
    session,
    bundleBytes,
    bundleSize,
    contentBytes: messages.reduce((a, m) => a + m.content.length, 0),
    seconds: (last - t0) / 1000,
    overs: channel.a.stats.keyUps + channel.b.stats.keyUps,
    retransmissions: alpha.sender.stats.retransmissions + bravo.sender.stats.retransmissions,
    // Segment bytes as sent (first sends and resends): what the RECORD frames carried beyond their headers.
    breakdown: { ...air, recordHeaders: air.recordHeaders - air.segments },
    latencyS: new Map([...delivered].map(([id, at]) => [id, (at - t0 - (byId.get(id)!.atMs ?? 0)) / 1000])),
  };
}
