// The link's choice of the next frame against the size of the backlog: builds a Sender with N queued messages
// of mixed priorities and deadlines, and times next() over a few thousand frames. Prints a table and writes
// bench/results/scheduler.json. Before the ready heap, this was a scan of every queued message per frame.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MemoryProgressStore } from '../src/link/contracts.ts';
import { Sender } from '../src/link/sender.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rows: { queued: number; frames: number; usPerFrame: number; usPerAdd: number }[] = [];
for (const n of [1_000, 10_000, 100_000]) {
  let clock = 1_800_000_000_000;
  const s = new Sender('bravo', new MemoryProgressStore(), 'priority', { maxFrame: 256, window: 1_000_000, dictionaries: [0, 1] }, () => clock);
  const items = Array.from({ length: n }, (_, i) => ({
    id: `m${i}`,
    priority: (i * 7) % 19 - 9,
    queuedAt: clock + i,
    size: 500 + ((i * 131) % 8000),
    ...(i % 5 === 0 ? { deadline: clock + 3_600_000 + i } : {}),
    bundle: () => new Uint8Array(500 + ((i * 131) % 8000)),
  }));
  const t0 = performance.now();
  s.add(items);
  const addMs = performance.now() - t0;
  const frames = 5000;
  const t1 = performance.now();
  for (let f = 0; f < frames; f++) {
    clock += 100;
    if (!s.next(clock)) break;
  }
  const frameMs = performance.now() - t1;
  rows.push({ queued: n, frames, usPerFrame: Math.round((frameMs * 1000) / frames), usPerAdd: Math.round((addMs * 1000) / n) });
}
const head = ['queued', 'frames', 'µs per frame', 'µs per message added'];
console.log([head, ...rows.map((r) => [r.queued, r.frames, r.usPerFrame, r.usPerAdd].map(String))].map((r) => r.map((c) => c.padStart(20)).join('')).join('\n'));
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'scheduler.json'), JSON.stringify({ benchmark: 'scheduler', date: new Date().toISOString(), node: process.version, rows }, null, 2) + '\n');
