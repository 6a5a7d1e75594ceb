// Link benchmark in simulated time: every shipped scenario (and preemption under FIFO for comparison), with
// the seed fixed so the figures repeat. Prints a table and writes bench/results/link.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenarioFile, type RunResult } from '../sim/run-scenario.ts';
import { simBundle } from '../sim/sim-bundle.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'sim', 'scenarios');
const seed = Number(process.argv.find((a) => a.startsWith('--seed='))?.slice(7) ?? 7);
const runs: (Omit<RunResult, 'deliveryOrder'> & { wallMs: number })[] = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
  for (const scheduler of f.startsWith('preemption') ? (['priority', 'fifo'] as const) : (['priority'] as const)) {
    const t = Date.now();
    const { deliveryOrder: _d, ...r } = await runScenarioFile(path.join(dir, f), { bundle: simBundle, seed, scheduler });
    runs.push({ ...r, wallMs: Date.now() - t });
  }
}
const rows = runs.map((r) => {
  const top = Object.entries(r.latencyByPriority).sort((a, b) => Number(b[0]) - Number(a[0]))[0];
  return [
    `${r.scenario}${r.scheduler === 'fifo' ? ' (fifo)' : ''}`,
    `${r.delivered}/${r.messages}`,
    String(r.lost + r.duplicates + r.corrupted),
    r.goodputRatio.toFixed(3),
    r.simulatedSeconds.toFixed(0),
    String(r.overs),
    r.meanBytesOnAirPerMessage.toFixed(0),
    r.meanGzipBytesPerMessage.toFixed(0),
    top ? `${top[0]}: ${top[1].max}` : '-',
    String(r.wallMs),
  ];
});
const head = ['scenario', 'delivered', 'lost+dup+bad', 'goodput', 'sim s', 'overs', 'air B/msg', 'gzip B/msg', 'top prio max s', 'wall ms'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log([head, ...rows].map((r) => r.map((c, i) => c.padStart(w[i]!)).join('  ')).join('\n'));
const out = path.join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'link.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, seed, runs }, null, 2));
console.log(`\nwrote ${path.join('bench', 'results', 'link.json')}`);
