import type { Command } from 'commander';
import { createLogger, Gateway, stationSettings } from '../gateway/index.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run a gateway: SMTP front end, queue, relay and the radio links of its config (links: peer, port, profile, key); embedded defaults when no config is given')
    .option('-c, --config <file>', 'station configuration (YAML)')
    .option('-l, --listen <host:port>', 'SMTP listen address (default 127.0.0.1:2525)')
    .option('-d, --data <dir>', 'data folder for the queue (default ./hfmail-data)')
    .action(async (opts: { config?: string; listen?: string; data?: string }) => {
      const settings = stationSettings(opts);
      const log = createLogger();
      const gateway = new Gateway({ ...settings, log });
      await gateway.start();
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping');
        gateway.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
