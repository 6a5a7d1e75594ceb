import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { LinkStation, MemoryOutbound, MemoryProgressStore, type InboundSink, type SchedulerMode } from '../src/link/index.ts';
import { createChannel } from './channel.ts';
import { channelOptions, loadScenario, scenarioMessages, type Scenario, type ScenarioMessage } from './scenario.ts';
import { SeededRandom } from './seeded-random.ts';
import { VirtualClock } from './virtual-clock.ts';

export interface RunOptions {
  readonly seed?: number;
  readonly scheduler?: SchedulerMode;
  /** Turns a message into the bytes that cross the link (the bundle codec). */
  readonly bundle: (m: ScenarioMessage) => Uint8Array;
  /** Folder that relative message files are read from. */
  readonly baseDir?: string;
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
  messages: number;
  delivered: number;
  lost: number;
  expired: number;
  duplicates: number;
  corrupted: number;
  bytesOnAir: { aToB: number; bToA: number };
  payloadBytes: number;
  bundleBytes: number;
  goodputRatio: number;
  simulatedSeconds: number;
  overs: number;
  latencyByPriority: Record<string, LatencyStats>;
  meanBytesOnAirPerMessage: number;
  meanGzipBytesPerMessage: number;
  authBytes: number;
  retransmissions: number;
  bitErrors: number;
  events: number;
  deliveryOrder: string[];
}

const KEY = new TextEncoder().encode('hfmail simulator shared key');

/** Runs one scenario between two link stations over the simulated channel, in virtual time. */
export async function runScenario(s: Scenario, opts: RunOptions): Promise<RunResult> {
  const seed = opts.seed ?? s.seed;
  const rng = new SeededRandom(seed);
  const clock = new VirtualClock();
  const t0 = clock.now();
  const L = s.link;
  const channel = createChannel(channelOptions(L), clock, rng.fork());
  const gen = rng.fork();
  const messages = scenarioMessages(s, () => gen.next(), opts.baseDir ?? process.cwd());
  const byId = new Map(messages.map((m) => [m.id, { m, bundle: opts.bundle(m) }]));
  const scheduler = opts.scheduler ?? 'priority';
  const common = {
    key: KEY,
    duplex: L.duplex,
    bitRate: L.bitRate,
    bitsPerByte: L.bitsPerByte,
    turnaroundMs: L.turnaroundMs,
    latencyMs: L.propagationMs + 20,
    maxFrame: L.frameSize,
    window: L.window,
    maxOverMs: L.overMs,
    scheduler,
  } as const;

  const out = new MemoryOutbound();
  const deliveries: { id: string; at: number; bytes: Uint8Array }[] = [];
  const sink: InboundSink = { accept: async (id, bytes) => void deliveries.push({ id, at: clock.now(), bytes }) };
  const nothing: InboundSink = { accept: async () => undefined };
  const alpha = new LinkStation({ ...common, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: rng.fork(), port: channel.a, source: out, sink: nothing, progress: new MemoryProgressStore() });
  const bravo = new LinkStation({ ...common, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: rng.fork(), port: channel.b, source: new MemoryOutbound(), sink, progress: new MemoryProgressStore() });
  out.onAdd(() => alpha.notify());
  for (const { m, bundle } of byId.values()) {
    clock.setTimer(m.atMs, () =>
      out.add({ id: m.id, priority: m.priority, queuedAt: clock.now(), bundle, ...(m.deadlineMs !== undefined ? { deadline: t0 + m.deadlineMs } : {}) }),
    );
  }
  alpha.start();
  bravo.start();

  const limit = t0 + s.timeLimitS * 1000;
  let lastProgress = t0;
  for (;;) {
    const more = await clock.runUntil(Math.min(clock.now() + 10_000, limit));
    const settled = out.confirmed.length + out.withdrawn.length;
    if (deliveries.length) lastProgress = Math.max(lastProgress, deliveries[deliveries.length - 1]!.at);
    if (settled === messages.length || !more || clock.now() >= limit) break;
  }
  alpha.stop();
  bravo.stop();

  const seen = new Map<string, number>();
  let corrupted = 0;
  const latencies = new Map<number, number[]>();
  let payloadBytes = 0;
  let bundleBytes = 0;
  for (const d of deliveries) {
    seen.set(d.id, (seen.get(d.id) ?? 0) + 1);
    if (seen.get(d.id)! > 1) continue;
    const sent = byId.get(d.id);
    if (!sent || !Buffer.from(d.bytes).equals(Buffer.from(sent.bundle))) {
      corrupted++;
      continue;
    }
    payloadBytes += sent.m.content.length;
    bundleBytes += sent.bundle.length;
    const lat = (d.at - (t0 + sent.m.atMs)) / 1000;
    latencies.set(sent.m.priority, [...(latencies.get(sent.m.priority) ?? []), lat]);
  }
  const delivered = seen.size - corrupted;
  const simulatedSeconds = (lastProgress - t0) / 1000;
  const onAir = channel.a.stats.bytesOnAir + channel.b.stats.bytesOnAir;
  const gzipTotal = messages.reduce((a, m) => a + gzipSync(m.content, { level: 9 }).length, 0);
  return {
    scenario: s.name,
    seed,
    scheduler,
    messages: messages.length,
    delivered,
    lost: messages.length - delivered - out.withdrawn.length,
    expired: out.withdrawn.length,
    duplicates: [...seen.values()].reduce((a, n) => a + n - 1, 0),
    corrupted,
    bytesOnAir: { aToB: channel.a.stats.bytesOnAir, bToA: channel.b.stats.bytesOnAir },
    payloadBytes,
    bundleBytes,
    goodputRatio: simulatedSeconds > 0 ? (payloadBytes * 8) / (L.bitRate * simulatedSeconds) : 0,
    simulatedSeconds,
    overs: channel.a.stats.keyUps + channel.b.stats.keyUps,
    latencyByPriority: Object.fromEntries([...latencies].sort((a, b) => b[0] - a[0]).map(([p, l]) => [String(p), summarize(l)])),
    meanBytesOnAirPerMessage: messages.length ? onAir / messages.length : 0,
    meanGzipBytesPerMessage: messages.length ? gzipTotal / messages.length : 0,
    authBytes: alpha.stats.authBytes + bravo.stats.authBytes,
    retransmissions: alpha.sender.stats.retransmissions,
    bitErrors: channel.a.stats.bitErrors + channel.b.stats.bitErrors,
    events: clock.events,
    deliveryOrder: deliveries.map((d) => d.id),
  };
}

function summarize(values: number[]): LatencyStats {
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]!;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { count: v.length, p50: r(q(0.5)), p95: r(q(0.95)), max: r(v[v.length - 1]!) };
}

export async function runScenarioFile(file: string, opts: Omit<RunOptions, 'baseDir'>): Promise<RunResult> {
  return runScenario(loadScenario(file), { ...opts, baseDir: path.dirname(path.resolve(file)) });
}
