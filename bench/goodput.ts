// Goodput against bit error rate: hfmail's link against whole-message retry and stop-and-wait, on the same
// simulated channel and the same mail, at 300, 2400 and 9600 bit/s (each with its profile's turnaround, frame
// size and over), for random and bursty (Gilbert-Elliott) errors; and the ideal for the over length.
import { newMessageId } from '../src/core/index.ts';
import { averageBer } from '../sim/bit-errors.ts';
import { generateMail } from '../sim/mail-generator.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { runStopAndWait, runWholeMessage } from './baselines.ts';
import { envelopeOf, gatewayBundle, queuedMessage, type Submission } from './gateway-bundle.ts';
import { linkDictionary, runLink, type AirBreakdown, type LinkSpec } from './link-run.ts';

export const RATES: readonly { name: string; spec: LinkSpec }[] = [
  { name: 'hf-packet-300', spec: { bitRate: 300, turnaroundMs: 800, frameSize: 128, window: 32, overMs: 30_000 } },
  // The longest over the profile allows (firmware-profiles/stanag4539-2400.yaml: maxOverS 120).
  { name: 'stanag4539-2400', spec: { bitRate: 2400, turnaroundMs: 1500, frameSize: 1024, window: 256, overMs: 120_000 } },
  { name: 'kiss-9600', spec: { bitRate: 9600, turnaroundMs: 150, frameSize: 512, window: 64, overMs: 10_000 } },
];
export const BERS = [0, 1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3] as const;

/** Bursty errors with mean `ber`: bad spells of 8,000 bits at 100 times the good state's rate, 1 bit in 26 bad. */
export function bursty(ber: number): LinkSpec['ber'] {
  const shape = { good: 1, bad: 100, pGoodToBad: 0.000005, pBadToGood: 0.000125 };
  const k = ber / averageBer(shape);
  return { ...shape, good: shape.good * k, bad: Math.min(0.5, shape.bad * k) };
}

/** The half-duplex duty cycle: a full over, then the turn to the peer, its acknowledgement and the turn back. */
export function idealEfficiency(spec: LinkSpec): number {
  const ackMs = (40 * 8 * 1000) / spec.bitRate;
  const over = spec.overMs ?? 30_000;
  return over / (over + 2 * spec.turnaroundMs + ackMs + 2 * (spec.propagationMs ?? 10));
}

export interface GoodputPoint {
  rate: string;
  bitRate: number;
  errors: 'random' | 'bursty';
  ber: number;
  protocol: 'hfmail' | 'whole-message' | 'stop-and-wait';
  delivered: number;
  messages: number;
  /** Bundle bytes delivered / (bit rate x time). */
  efficiency: number;
  /** Mail (content) bits delivered per second. */
  goodputBps: number;
  seconds: number;
}

/** Mail worth `airS` seconds at the rate: generated messages of 2-8 KB, as the gateway bundles them. */
function workload(spec: LinkSpec, airS: number, seed: number) {
  const rnd = new SeededRandom(seed);
  const next = () => rnd.next();
  const dictionary = linkDictionary(spec);
  const subs: Submission[] = [];
  let bytes = 0;
  for (let i = 0; bytes < (spec.bitRate / 8) * airS; i++) {
    const eml = generateMail(2000 + Math.floor(next() * 6000), next, i);
    // Queue ids as the gateway gives them (they travel packed in frames).
    const at = 1_800_000_000_000 + i;
    const s: Submission = { id: newMessageId({ now: () => at, setTimer: () => ({ cancel() {} }) }, rnd), eml, at, ...envelopeOf(eml) };
    subs.push(s);
    bytes += gatewayBundle(s, dictionary).length;
  }
  return subs.map((s) => ({ id: s.id, content: queuedMessage(s).content, bundle: (d: number) => gatewayBundle(s, d), made: gatewayBundle(s, dictionary) }));
}

export async function measureGoodput(opts: { quick?: boolean; log?: (s: string) => void } = {}): Promise<{ points: GoodputPoint[]; ideal: Record<string, number>; airS: number; clean: Record<string, AirBreakdown> }> {
  const airS = opts.quick ? 60 : 400;
  const points: GoodputPoint[] = [];
  /** Where hfmail's bytes went at BER 0, by rate. */
  const clean: Record<string, AirBreakdown> = {};
  const bers = opts.quick ? [0, 1e-5, 1e-4, 1e-3] : BERS;
  for (const { name, spec } of RATES) {
    const msgs = workload(spec, airS, 5);
    const bundles = msgs.map((m) => m.made);
    const content = new Map(msgs.map((m) => [m.made, m.content.length]));
    const contentOf = (n: number) => bundles.slice(0, n).reduce((a, b) => a + content.get(b)!, 0);
    const limitS = airS * 12;
    for (const errors of ['random', 'bursty'] as const) {
      for (const ber of bers) {
        if (errors === 'bursty' && ber === 0) continue;
        const s: LinkSpec = { ...spec, ber: errors === 'random' ? ber : bursty(ber) };
        const point = (protocol: GoodputPoint['protocol'], delivered: number, bundleBytes: number, seconds: number): GoodputPoint => {
          const t = delivered === msgs.length ? seconds : limitS;
          return { rate: name, bitRate: spec.bitRate, errors, ber, protocol, delivered, messages: msgs.length, efficiency: t > 0 ? (bundleBytes * 8) / (spec.bitRate * t) : 0, goodputBps: t > 0 ? (contentOf(delivered) * 8) / t : 0, seconds: t };
        };
        const h = await runLink(s, msgs, { seed: 3, timeLimitS: limitS });
        if (ber === 0) clean[name] = h.breakdown;
        points.push(point('hfmail', h.delivered, h.bundleBytes, h.seconds));
        const w = await runWholeMessage(s, bundles, 3, limitS);
        points.push(point('whole-message', w.delivered, w.bundleBytes, w.seconds));
        const sw = await runStopAndWait(s, bundles, 3, limitS);
        points.push(point('stop-and-wait', sw.delivered, sw.bundleBytes, sw.seconds));
        opts.log?.(`${name} ${errors} ${ber}: hfmail ${points.at(-3)!.efficiency.toFixed(3)}, whole ${points.at(-2)!.efficiency.toFixed(3)}, stop-and-wait ${points.at(-1)!.efficiency.toFixed(3)}`);
      }
    }
  }
  return { points, ideal: Object.fromEntries(RATES.map((r) => [r.name, idealEfficiency(r.spec)])), airS, clean };
}
