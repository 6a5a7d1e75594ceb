// The chaos campaign: `npm run chaos -- --runs N --seed S`.
//
// Each run starts alpha (field.example) and bravo (base.example) as two `hfmail start` processes joined by socat
// ptys and `hfmail sim channel` (Gilbert-Elliott bit errors with bursts up to 1e-3, fixed and random fades), with
// an SMTP peer for next.example behind bravo that refuses some recipients. From a seeded plan it submits mail to
// both stations by SMTP (local Maildirs across the radio, the next hop, refused addresses with ARCPT alternates,
// BY in R and N mode, ABY, NOTIFY, a domain the two stations route to each other) and SIGKILLs the stations at
// planned moments. After quiescence the oracle checks that every accepted message was delivered exactly once and
// byte for byte to each recipient or its alternate, or produced exactly the right DSN. Run k uses seed S+k; a
// failing run prints its seed, and `--runs 1 --seed <it>` replays its plan.
import { parseArgs } from 'node:util';
import { FULL_RUN, SHORT_RUN } from './chaos/plan.ts';
import { runChaos, type RunResult } from './chaos/run.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    seed: { type: 'string' },
    short: { type: 'boolean', default: false },
    messages: { type: 'string' },
    kills: { type: 'string' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    [
      'usage: npm run chaos -- [--runs N] [--seed S] [--short] [--messages M] [--kills K] [--keep] [--quiet]',
      '  --runs N      runs, with seeds S, S+1, ... (default 1)',
      '  --seed S      the first run\'s seed (default: from the clock, printed)',
      '  --short       the CI size: 10 messages, 2 kills, 15 s of submissions',
      '  --messages M, --kills K   override the plan\'s size',
      '  --keep        keep each run\'s folder (station logs, queues, Maildirs); failed runs are always kept',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) {
    process.stderr.write(`chaos: --${name} must be a non-negative integer, not ${v}\n`);
    process.exit(2);
  }
  return Number(v);
};

const runs = int(values.runs, 'runs') ?? 1;
const seed = int(values.seed, 'seed') ?? Date.now() % 1_000_000_000;
const base = values.short ? SHORT_RUN : FULL_RUN;
const plan = { ...base, messages: int(values.messages, 'messages') ?? base.messages, kills: int(values.kills, 'kills') ?? base.kills };
/** The options that shape the plan, for a replay line. */
const sizeArgs = `${values.short ? ' --short' : ''}${values.messages !== undefined ? ` --messages ${plan.messages}` : ''}${values.kills !== undefined ? ` --kills ${plan.kills}` : ''}`;
const log = values.quiet ? () => undefined : (l: string) => process.stdout.write(l + '\n');

function table(results: readonly RunResult[]): string {
  const keys = new Set<string>();
  for (const r of results) for (const k of Object.keys(r.verdict.counts)) keys.add(k);
  const fixed = ['submission attempts', 'accepted messages', 'attempts refused', 'attempts interrupted', 'attempts uncertain', 'accepted recipients', 'delivered to the recipient', 'delivered to an alternate', 'DSN files'];
  const sorted = (prefix: string) => [...keys].filter((k) => k.startsWith(prefix) && !fixed.includes(k)).sort();
  const rows: [string, (r: RunResult) => number][] = [
    ['messages planned', (r) => r.plan.messages.length],
    ...[...fixed, ...sorted('DSN '), ...sorted('outcome: ')].map((k): [string, (r: RunResult) => number] => [k, (r) => r.verdict.counts[k] ?? 0]),
    ['kills alpha', (r) => r.kills.alpha],
    ['kills bravo', (r) => r.kills.bravo],
    ['seconds', (r) => Math.round(r.durationMs / 1000)],
    ['failures', (r) => r.verdict.failures.length],
  ];
  const head = ['', ...results.map((r) => `seed ${r.seed}`)];
  const body = rows.map(([k, f]) => [k, ...results.map((r) => String(f(r)))]);
  const widths = head.map((_, c) => Math.max(...[head, ...body].map((row) => row[c]!.length)));
  const fmt = (row: string[]) => row.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [fmt(head), ...body.map(fmt)].join('\n') + '\n';
}

const results: RunResult[] = [];
const t0 = Date.now();
for (let k = 0; k < runs; k++) {
  const s = seed + k;
  const r = await runChaos(s, { plan, settleLimitMs: values.short ? 120_000 : 180_000, keep: values.keep, log });
  results.push(r);
  if (r.verdict.failures.length) {
    log(`seed ${s}: FAILED (${r.verdict.failures.length}) in ${(r.durationMs / 1000).toFixed(0)} s; folder kept: ${r.dir}; replay: npm run chaos -- --runs 1 --seed ${s}${sizeArgs}`);
    for (const f of r.verdict.failures) log(`  - ${f}`);
  } else log(`seed ${s}: OK in ${(r.durationMs / 1000).toFixed(0)} s${r.dir ? `; folder kept: ${r.dir}` : ''}`);
  for (const n of r.verdict.notes) log(`  note: ${n}`);
}
process.stdout.write('\n' + table(results));
const failed = results.filter((r) => r.verdict.failures.length);
const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
if (failed.length) {
  process.stdout.write(`chaos: ${failed.length} of ${runs} runs FAILED (first seed ${seed}, ${minutes} min); replay with:\n`);
  for (const r of failed) process.stdout.write(`  npm run chaos -- --runs 1 --seed ${r.seed}${sizeArgs}   # ${r.verdict.failures.length} failures, folder ${r.dir}\n`);
  process.exitCode = 1;
} else process.stdout.write(`chaos: ${runs} runs OK (seed ${seed}${values.short ? ', short' : ''}, ${minutes} min)\n`);
