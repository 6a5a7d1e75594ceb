import type { Command } from 'commander';
import path from 'node:path';
import { packageRoot } from '../gateway/index.ts';
import type { ChannelOptions } from '../../sim/channel.ts';
import { runScenarioFile, type RunResult } from '../../sim/run-scenario.ts';
import { simBundle } from '../../sim/sim-bundle.ts';
import { runRealtimeChannel } from '../../sim/realtime-channel.ts';
import { channelOptions, loadScenario } from '../../sim/scenario.ts';

/** A scenario given as a file, or by name from the shipped sim/scenarios (README lists them by name). */
function scenarioFile(nameOrFile: string): string {
  return /[/.]/.test(nameOrFile) ? nameOrFile : path.join(packageRoot(), 'sim', 'scenarios', `${nameOrFile}.yaml`);
}

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('the lossy-link simulator');
  registerChannel(sim);
  sim
    .command('run <scenario>')
    .description('transfer a scenario\'s messages between two link stations over a simulated radio, in virtual time')
    .option('--json', 'print one JSON object')
    .option('--seed <n>', 'seed for the channel and the generated messages (default: the scenario\'s)')
    .option('--scheduler <mode>', 'priority or fifo', 'priority')
    .action(async (file: string, opts: { json?: boolean; seed?: string; scheduler: string }) => {
      if (opts.scheduler !== 'priority' && opts.scheduler !== 'fifo') throw new Error(`--scheduler must be priority or fifo, not ${opts.scheduler}`);
      if (opts.seed !== undefined && !/^\d+$/.test(opts.seed)) throw new Error(`--seed must be a non-negative integer, not ${opts.seed}`);
      const result = await runScenarioFile(scenarioFile(file), {
        scheduler: opts.scheduler,
        bundle: simBundle,
        ...(opts.seed !== undefined ? { seed: Number(opts.seed) } : {}),
      });
      const { deliveryOrder: _order, ...summary } = result;
      process.stdout.write(opts.json ? JSON.stringify(summary, null, 2) + '\n' : table(result));
    });
}

function registerChannel(sim: Command): void {
  sim
    .command('channel')
    .description('apply the radio model in real time between two serial devices (e.g. socat ptys)')
    .requiredOption('--a <device>', 'the device station A writes to and reads from (the far end of its pty)')
    .requiredOption('--b <device>', 'the same for station B')
    .option('--scenario <file|name>', 'take the link from a scenario (a file, or a name in sim/scenarios)')
    .option('--bit-rate <n>', 'bit/s', '2400')
    .option('--turnaround <ms>', 'key-up to first bit, ms', '1500')
    .option('--ber <x>', 'bit error rate', '0')
    .option('--duplex <mode>', 'half or full', 'half')
    .option('--seed <n>', 'seed for errors and fades', '1')
    .action(async (o: { a: string; b: string; scenario?: string; bitRate: string; turnaround: string; ber: string; duplex: string; seed: string }) => {
      const num = (v: string, name: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, not ${v}`);
        return n;
      };
      if (o.duplex !== 'half' && o.duplex !== 'full') throw new Error(`--duplex must be half or full, not ${o.duplex}`);
      let opts: ChannelOptions = { bitRate: num(o.bitRate, 'bit-rate'), turnaroundMs: num(o.turnaround, 'turnaround'), ber: num(o.ber, 'ber'), duplex: o.duplex };
      if (o.scenario) {
        const file = scenarioFile(o.scenario);
        // The scenario's whole radio, random fades and bit-error bursts included.
        opts = channelOptions(loadScenario(file).link);
      }
      const ch = await runRealtimeChannel(o.a, o.b, opts, num(o.seed, 'seed'));
      process.stderr.write(`simulated radio between ${o.a} and ${o.b}: ${opts.bitRate} bit/s, ${opts.duplex} duplex, turnaround ${opts.turnaroundMs} ms; Ctrl-C stops\n`);
      const stop = () => {
        process.stderr.write(JSON.stringify(ch.stats()) + '\n');
        ch.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function table(r: RunResult): string {
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} (seed ${r.seed}, ${r.scheduler} scheduler)`],
    ['messages', `${r.delivered} delivered of ${r.messages}; ${r.lost} lost, ${r.withdrawn} withdrawn (expired), ${r.refused} refused, ${r.duplicates} duplicates, ${r.corrupted} corrupted`],
    ['by direction', `alpha->bravo ${r.directions.aToB.delivered} of ${r.directions.aToB.messages}, bravo->alpha ${r.directions.bToA.delivered} of ${r.directions.bToA.messages}`],
    ['simulated time', `${r.simulatedSeconds.toFixed(1)} s`],
    ['longest stall', `${r.longestStallS.toFixed(1)} s with mail pending and no progress`],
    ['payload', `${r.payloadBytes} bytes of mail (${r.bundleBytes} as bundles)`],
    ['on the air', `${r.bytesOnAir.aToB} bytes alpha->bravo, ${r.bytesOnAir.bToA} bytes bravo->alpha, in ${r.keyUps} key-ups (overs)`],
    ['goodput ratio', r.goodputRatio.toFixed(3)],
    ['bytes on air per message', `${r.meanBytesOnAirPerMessage.toFixed(0)} (gzip -9 of the message alone: ${r.meanGzipBytesPerMessage.toFixed(0)})`],
    ['retransmitted records', String(r.retransmissions)],
  ];
  const x = r.attacker;
  if (x.injections > 0)
    rows.push(['attacker', `${x.hellos} forged hellos, ${x.bytesOnAir} bytes on the air, ${x.bytesDelivered} heard, ${x.collidedBytes} collided; ${x.jammedBytes} station bytes destroyed`]);
  for (const [p, l] of Object.entries(r.latencyByPriority))
    rows.push([`latency, priority ${p}`, `p50 ${l.p50} s, p95 ${l.p95} s, max ${l.max} s (${l.count} messages)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}
