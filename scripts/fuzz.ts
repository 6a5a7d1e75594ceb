// npm run fuzz -- --target kiss|frame|bundle|dsn|smtp|all --seconds N [--seed S] [--case N]
//
// Seeded fuzz loops (scripts/fuzz/): the decoders (KISS, link frames, bundles, the mail parsers and DSNs) run
// hundreds of thousands of inputs a second in process; smtp drives a real gateway's SMTP front end on a loopback
// port. Each prints its count, rate and seed; a failure prints the seed, the case (or session) and the input,
// and the exit status is 1. `--case N` replays one decoder case of a seed.
import { DECODER_TARGETS, runDecoder } from './fuzz/decoders.ts';
import { runSmtp } from './fuzz/smtp-target.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const target = arg('target') ?? 'all';
const seconds = Number(arg('seconds') ?? 10);
const seed = arg('seed') !== undefined ? Number(arg('seed')) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const only = arg('case') !== undefined ? Number(arg('case')) : undefined;
const names = target === 'all' ? [...Object.keys(DECODER_TARGETS), 'smtp'] : [target];
if (!Number.isFinite(seconds) || seconds <= 0 || names.some((n) => n !== 'smtp' && !DECODER_TARGETS[n])) {
  process.stderr.write(`usage: npm run fuzz -- --target ${[...Object.keys(DECODER_TARGETS), 'smtp', 'all'].join('|')} --seconds N [--seed S] [--case N]\n`);
  process.exit(2);
}

let failed = false;
for (const name of names) {
  const ms = (seconds * 1000) / names.length;
  if (name === 'smtp') {
    const r = await runSmtp(seed, ms);
    const rate = Math.round((r.sessions / r.ms) * 1000);
    process.stdout.write(`smtp: ${r.sessions} sessions, ${r.commands} sends, ${r.replies} replies, ${r.accepted} messages accepted and checked in ${(r.ms / 1000).toFixed(1)} s (${rate} sessions/s), seed ${seed}\n`);
    if (r.failure) {
      failed = true;
      process.stdout.write(`FAILED smtp, seed ${seed}, session ${r.failure.session}: ${r.failure.error}\n${r.failure.transcript}\n`);
    }
    continue;
  }
  const r = runDecoder(DECODER_TARGETS[name]!, seed, ms, only);
  const rate = Math.round((r.inputs / r.ms) * 1000);
  process.stdout.write(`${name}: ${r.inputs} inputs in ${(r.ms / 1000).toFixed(1)} s (${rate}/s), seed ${seed}\n`);
  if (r.failure) {
    failed = true;
    process.stdout.write(`FAILED ${name}, seed ${seed}, case ${r.failure.caseNo} (replay: npm run fuzz -- --target ${name} --seed ${seed} --case ${r.failure.caseNo})\n${r.failure.error}\ninput:\n${r.failure.input}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
