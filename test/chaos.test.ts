// The chaos campaign's short run (scripts/chaos.ts; `npm run chaos` for the long one): alpha and bravo as two
// processes over a bursty, fading simulated radio, an SMTP next hop that refuses some recipients, ten seeded
// messages (Maildirs across the radio, the next hop, ARCPT redirects, BY/ABY deadlines, a routing loop) and two
// SIGKILLs; every accepted message is delivered once and byte for byte, or has exactly the right DSN.
// HFMAIL_CHAOS_SEED=n picks the seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHORT_RUN } from '../scripts/chaos/plan.ts';
import { runChaos } from '../scripts/chaos/run.ts';

test('chaos, short run: exactly once and byte-identical, or exactly the right DSN (seed printed)', { timeout: 300_000 }, async () => {
  const seed = Number(process.env.HFMAIL_CHAOS_SEED ?? 20261201);
  const r = await runChaos(seed, { plan: SHORT_RUN, settleLimitMs: 120_000 });
  const counts = Object.entries(r.verdict.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`chaos seed ${seed}: ${(r.durationMs / 1000).toFixed(0)} s, kills alpha ${r.kills.alpha} bravo ${r.kills.bravo}; ${counts}`);
  for (const n of r.verdict.notes) console.log(n);
  assert.ok((r.verdict.counts['accepted messages'] ?? 0) >= SHORT_RUN.messages / 2, `too few messages accepted to judge anything: ${counts}`);
  assert.deepEqual(r.verdict.failures, [], `chaos seed ${seed} failed (replay: npm run chaos -- --runs 1 --seed ${seed} --short; folder ${r.dir})`);
});
