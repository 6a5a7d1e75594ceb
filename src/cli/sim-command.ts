import type { Command } from 'commander';
import { runScenarioFile, type RunResult } from '../../sim/run-scenario.ts';
import { simBundle } from '../../sim/sim-bundle.ts';

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('the lossy-link simulator');
  sim
    .command('run <scenario>')
    .description('transfer a scenario\'s messages between two link stations over a simulated radio, in virtual time')
    .option('--json', 'print one JSON object')
    .option('--seed <n>', 'seed for the channel and the generated messages (default: the scenario\'s)')
    .option('--scheduler <mode>', 'priority or fifo', 'priority')
    .action(async (file: string, opts: { json?: boolean; seed?: string; scheduler: string }) => {
      if (opts.scheduler !== 'priority' && opts.scheduler !== 'fifo') throw new Error(`--scheduler must be priority or fifo, not ${opts.scheduler}`);
      if (opts.seed !== undefined && !/^\d+$/.test(opts.seed)) throw new Error(`--seed must be a non-negative integer, not ${opts.seed}`);
      const result = await runScenarioFile(file, {
        scheduler: opts.scheduler,
        bundle: simBundle,
        ...(opts.seed !== undefined ? { seed: Number(opts.seed) } : {}),
      });
      const { deliveryOrder: _order, ...summary } = result;
      process.stdout.write(opts.json ? JSON.stringify(summary, null, 2) + '\n' : table(result));
    });
}

function table(r: RunResult): string {
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} (seed ${r.seed}, ${r.scheduler} scheduler)`],
    ['messages', `${r.delivered} delivered of ${r.messages}; ${r.lost} lost, ${r.expired} expired, ${r.duplicates} duplicates, ${r.corrupted} corrupted`],
    ['simulated time', `${r.simulatedSeconds.toFixed(1)} s`],
    ['payload', `${r.payloadBytes} bytes of mail (${r.bundleBytes} as bundles)`],
    ['on the air', `${r.bytesOnAir.aToB} bytes alpha->bravo, ${r.bytesOnAir.bToA} bytes bravo->alpha, in ${r.overs} overs`],
    ['goodput ratio', r.goodputRatio.toFixed(3)],
    ['bytes on air per message', `${r.meanBytesOnAirPerMessage.toFixed(0)} (gzip -9 of the message alone: ${r.meanGzipBytesPerMessage.toFixed(0)})`],
    ['retransmitted records', String(r.retransmissions)],
  ];
  for (const [p, l] of Object.entries(r.latencyByPriority))
    rows.push([`latency, priority ${p}`, `p50 ${l.p50} s, p95 ${l.p95} s, max ${l.max} s (${l.count} messages)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}
