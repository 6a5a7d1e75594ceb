// Bytes on the air per message: hfmail (the gateway's bundle, every frame, acknowledgement and hello, measured by
// running the real link stations over the simulated channel) against LZHUF as B2F frames it, a B2F conversion
// of the message with B2F's session framing, gzip -9, brotli q11 and the raw SMTP dialogue.
import { performance } from 'node:perf_hooks';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { newMessageId } from '../src/core/index.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { b2fAloneBytes, b2fInSessionBytes, b2fMessage, b2fSessionBytes, smtpDialogueBytes, type B2fMessage } from './b2f.ts';
import type { CorpusMessage } from './corpus.ts';
import { envelopeOf, gatewayBundle, queuedMessage, type Submission } from './gateway-bundle.ts';
import { linkDictionary, runLink, type AirBreakdown, type BenchMessage, type LinkSpec } from './link-run.ts';
import { lzhufCompressB2 } from './lzhuf.ts';

/** The link the comparison runs on: a clean 2400 bit/s half-duplex HF modem (the stanag4539-2400 profile's frame, window and over). */
export const ON_AIR_LINK: LinkSpec = { bitRate: 2400, turnaroundMs: 1500, propagationMs: 10, duplex: 'half', ber: 0, frameSize: 1024, window: 256, overMs: 120_000 };

export const SIZE_CLASSES = [
  { name: 'small', label: '< 2 KB', test: (n: number) => n < 2048 },
  { name: 'medium', label: '2-8 KB', test: (n: number) => n >= 2048 && n <= 8192 },
  { name: 'large', label: '> 8 KB', test: (n: number) => n > 8192 },
] as const;

export interface MessageFigures {
  name: string;
  size: number;
  bundle: number;
  /** CPU time to make the bundle (compression included), ms, on this machine. */
  bundleMs: number;
  /** hfmail in the corpus-long session: its frames plus its share of the session's. */
  onAir: number;
  /** hfmail with the message alone in a session of its own (hello included). */
  lone: number;
  lzhuf: number;
  b2f: number;
  b2fLone: number;
  gzip: number;
  brotli: number;
  smtp: number;
}

export interface Summary {
  messages: number;
  meanSizeBytes: number;
  meanBundleBytes: number;
  meanOnAirBytes: number;
  meanLoneOnAirBytes: number;
  meanLzhufBytes: number;
  meanB2fBytes: number;
  meanB2fLoneBytes: number;
  meanGzipBytes: number;
  meanBrotliBytes: number;
  meanSmtpBytes: number;
  meanRatioToLzhuf: number;
  loneRatioToLzhuf: number;
  medianRatioToLzhuf: number;
  meanRatioToGzip: number;
  meanRatioToBrotli: number;
  meanRatioToB2f: number;
  loneRatioToB2f: number;
  meanRatioToSmtp: number;
  /** Making the bundle (the codec's compression): mean and largest ms per message on this machine. */
  meanBundleMs: number;
  maxBundleMs: number;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0);
const median = (xs: readonly number[]) => {
  if (!xs.length) return 0;
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r1 = (x: number) => Math.round(x * 10) / 10;

export function summarize(ms: readonly MessageFigures[]): Summary {
  const ratio = (f: (m: MessageFigures) => number, g: (m: MessageFigures) => number) => ms.map((m) => f(m) / g(m));
  const avg = (f: (m: MessageFigures) => number) => r1(mean(ms.map(f)));
  return {
    messages: ms.length,
    meanSizeBytes: avg((m) => m.size),
    meanBundleBytes: avg((m) => m.bundle),
    meanOnAirBytes: avg((m) => m.onAir),
    meanLoneOnAirBytes: avg((m) => m.lone),
    meanLzhufBytes: avg((m) => m.lzhuf),
    meanB2fBytes: avg((m) => m.b2f),
    meanB2fLoneBytes: avg((m) => m.b2fLone),
    meanGzipBytes: avg((m) => m.gzip),
    meanBrotliBytes: avg((m) => m.brotli),
    meanSmtpBytes: avg((m) => m.smtp),
    meanRatioToLzhuf: r3(mean(ratio((m) => m.onAir, (m) => m.lzhuf))),
    loneRatioToLzhuf: r3(mean(ratio((m) => m.lone, (m) => m.lzhuf))),
    medianRatioToLzhuf: r3(median(ratio((m) => m.onAir, (m) => m.lzhuf))),
    meanRatioToGzip: r3(mean(ratio((m) => m.onAir, (m) => m.gzip))),
    meanRatioToBrotli: r3(mean(ratio((m) => m.onAir, (m) => m.brotli))),
    meanRatioToB2f: r3(mean(ratio((m) => m.onAir, (m) => m.b2f))),
    loneRatioToB2f: r3(mean(ratio((m) => m.lone, (m) => m.b2fLone))),
    meanRatioToSmtp: r3(mean(ratio((m) => m.onAir, (m) => m.smtp))),
    meanBundleMs: Math.round(mean(ms.map((m) => m.bundleMs)) * 100) / 100,
    maxBundleMs: Math.round(Math.max(0, ...ms.map((m) => m.bundleMs)) * 100) / 100,
  };
}

export interface OnAirResult extends Summary {
  link: LinkSpec;
  /** hfmail's whole session: bytes on the air, of which the session's own (hello, AUTH, acks, turns). */
  session: { onAir: number; sessionBytes: number; seconds: number; overs: number; delivered: number; breakdown: AirBreakdown };
  /** B2F's whole session for the same corpus, in the same order. */
  b2fSessionBytes: number;
  classes: Record<string, Summary & { label: string }>;
  perMessage: MessageFigures[];
}

/**
 * Measures `corpus` (in the given order). Session mode: all messages queued at once, sent in that order (FIFO),
 * each message charged its own frames plus a share of the session's frames in proportion to its own. Alone: each
 * message in a session of its own, every byte of it charged.
 */
export async function measureOnAir(corpus: readonly CorpusMessage[], opts: { link?: LinkSpec; log?: (s: string) => void } = {}): Promise<OnAirResult> {
  const link = opts.link ?? ON_AIR_LINK;
  const log = opts.log ?? (() => {});
  const rng = new SeededRandom(20_021);
  const t0 = 1_800_000_000_000;
  const subs: Submission[] = corpus.map((c, i) => {
    const at = t0 + i * 1000;
    return { id: newMessageId({ now: () => at, setTimer: () => ({ cancel() {} }) }, rng), eml: c.bytes, at, ...envelopeOf(c.bytes) };
  });
  // The CPU time of the bundle that crossed in the session (compression against the history included).
  const makeMs = new Map<string, number>();
  const bench: BenchMessage[] = subs.map((s) => ({
    id: s.id,
    content: queuedMessage(s).content,
    bundle: (d, ctx) => {
      const t = performance.now();
      const made = gatewayBundle(s, d, ctx);
      makeMs.set(s.id, performance.now() - t);
      return made;
    },
  }));
  log(`hfmail: one session of ${subs.length} messages`);
  const whole = await runLink(link, bench, { scheduler: 'fifo' });
  const sessionMakeMs = new Map(makeMs);
  if (whole.delivered !== subs.length) throw new Error(`only ${whole.delivered} of ${subs.length} messages arrived in the session`);
  const own = [...whole.perMessage.values()].reduce((a, x) => a + x, 0);
  // Frames are attributed by reading protocol version 2's RECORD and CUSTODY layouts; if a later version moves
  // them, nothing is attributed, and the session is shared out by bundle size instead (and said so).
  const bundleTotal = own === 0 ? whole.bundleBytes : 0;
  if (own === 0) log('hfmail: no frame could be attributed to a message (a new frame layout?); sharing the session by bundle size');
  log(`hfmail: each of ${subs.length} messages alone`);
  const lone: number[] = [];
  for (const [i, m] of bench.entries()) {
    const r = await runLink(link, [m], { seed: i + 1 });
    if (r.delivered !== 1) throw new Error(`${corpus[i]!.name} did not arrive alone`);
    lone.push(r.onAir);
  }
  log('LZHUF, B2F, gzip, brotli, SMTP');
  const dictionary = linkDictionary(link);
  const b2f: B2fMessage[] = [];
  for (const c of corpus) b2f.push(await b2fMessage(c.bytes));
  const perMessage: MessageFigures[] = subs.map((s, i) => {
    const mine = whole.perMessage.get(s.id)!;
    const bundle = whole.bundleSize.get(s.id) ?? gatewayBundle(s, dictionary).length;
    const bundleMs = Math.round((sessionMakeMs.get(s.id) ?? 0) * 100) / 100;
    return {
      name: corpus[i]!.name,
      size: s.eml.length,
      bundle,
      bundleMs,
      onAir: Math.round(own > 0 ? mine + (whole.session * mine) / own : (whole.onAir * bundle) / bundleTotal),
      lone: lone[i]!,
      lzhuf: lzhufCompressB2(s.eml).length,
      b2f: Math.round(b2fInSessionBytes(b2f[i]!)),
      b2fLone: b2fAloneBytes(b2f[i]!),
      gzip: gzipSync(s.eml, { level: 9 }).length,
      brotli: brotliCompressSync(s.eml, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: s.eml.length } }).length,
      smtp: smtpDialogueBytes(s.eml, s.sender, s.recipients),
    };
  });
  const classes = Object.fromEntries(SIZE_CLASSES.map((c) => [c.name, { label: c.label, ...summarize(perMessage.filter((m) => c.test(m.size))) }]));
  return {
    ...summarize(perMessage),
    link,
    session: { onAir: whole.onAir, sessionBytes: Math.round(whole.session), seconds: r1(whole.seconds), overs: whole.overs, delivered: whole.delivered, breakdown: whole.breakdown },
    b2fSessionBytes: b2fSessionBytes(b2f),
    classes,
    perMessage,
  };
}
