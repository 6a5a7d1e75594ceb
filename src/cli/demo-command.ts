import type { Command } from 'commander';
import { runDemo } from '../gateway/index.ts';
import { createChannel } from '../../sim/channel.ts';
import { SeededRandom } from '../../sim/seeded-random.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('two stations in one process, alpha (field.example) and bravo (base.example), joined by a simulated 2400 bit/s HF radio')
    .option('-d, --data <dir>', 'data folder (alpha in DIR/alpha, bravo in DIR/bravo)', './hfmail-demo')
    .option('-p, --port <n>', 'SMTP port of alpha; bravo listens on the next one', '2525')
    .action(async (opts: { data: string; port: string }) => {
      if (!/^\d+$/.test(opts.port) || Number(opts.port) < 1 || Number(opts.port) > 65532) throw new Error(`--port must be 1..65532 (bravo uses the next one, the consoles the two after), not ${opts.port}`);
      // The scenario hf-1e-5's radio, in real time: 2400 bit/s, half duplex, 1.5 s turnaround, BER 1e-5.
      const radio = (clock: Parameters<typeof createChannel>[1]) =>
        createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500, propagationMs: 10, ber: 1e-5 }, clock, new SeededRandom(Date.now() >>> 0));
      const demo = await runDemo({ dataDir: opts.data, port: Number(opts.port), radio });
      const stop = () => {
        demo.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
