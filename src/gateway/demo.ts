import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '../core/index.ts';
import type { LinkPort } from '../link/index.ts';
import { validateConfig } from './config.ts';
import { Gateway } from './gateway.ts';
import { createLogger } from './logger.ts';

/** The radio between the two demo stations: handed in by the CLI, which may import the simulator. */
export type DemoRadio = (clock: typeof systemClock) => { a: LinkPort; b: LinkPort };

/**
 * `npm start`: alpha (a field laptop, field.example, SMTP on PORT) and bravo (the base, base.example, PORT+1)
 * joined by a simulated half-duplex HF link in real time. Each delivers its own domain into a Maildir.
 */
export async function runDemo(opts: { dataDir: string; port: number; radio: DemoRadio }): Promise<{ stop(): Promise<void> }> {
  const base = path.resolve(opts.dataDir);
  mkdirSync(base, { recursive: true });
  writeFileSync(path.join(base, 'demo.key'), 'hfmail demo key: alpha and bravo, not for real stations\n');
  const log = createLogger();
  const radio = opts.radio(systemClock);
  // Each station's web console and /metrics on loopback: alpha's on PORT+2, bravo's on PORT+3.
  const station = (name: string, peer: string, local: string, remote: string, port: number) =>
    validateConfig(
      {
        station: name,
        hostname: `${name}.${local}`,
        listen: `127.0.0.1:${port}`,
        web: `127.0.0.1:${port + 2}`,
        data: `./${name}/data`,
        routes: [
          { domains: [local], via: `maildir:./${name}/maildir` },
          { domains: [remote, '*'], via: `link:${peer}` },
        ],
        links: [{ peer, port: 'simulated radio', profile: 'stanag4539-2400', key: './demo.key' }],
      },
      'demo',
    );
  const alpha = new Gateway({ config: station('alpha', 'bravo', 'field.example', 'base.example', opts.port), log: log.child({ station: 'alpha' }), baseDir: base, linkPorts: { bravo: radio.a } });
  const bravo = new Gateway({ config: station('bravo', 'alpha', 'base.example', 'field.example', opts.port + 1), log: log.child({ station: 'bravo' }), baseDir: base, linkPorts: { alpha: radio.b } });
  await bravo.start();
  await alpha.start();
  const say = (s: string) => process.stderr.write(s + '\n');
  say('');
  say(`hfmail demo: alpha (field.example) on 127.0.0.1:${opts.port}, bravo (base.example) on 127.0.0.1:${opts.port + 1},`);
  say('joined by a simulated 2400 bit/s half-duplex HF radio (1.5 s turnaround, occasional bit errors).');
  say('Send a message from the field to the base:');
  say(`  swaks --server 127.0.0.1:${opts.port} --from you@field.example --to ops@base.example --add-header "MT-Priority: 4"`);
  say(`It appears in ${path.join(base, 'bravo', 'maildir', 'new')}/ (and replies to field.example in ${path.join(base, 'alpha', 'maildir', 'new')}/).`);
  say(`Consoles: alpha http://127.0.0.1:${opts.port + 2}/  bravo http://127.0.0.1:${opts.port + 3}/  (metrics at /metrics)`);
  say(`Queues: hfmail queue --data ${path.join(base, 'alpha', 'data')}   Ctrl-C stops both stations.`);
  say('');
  return {
    async stop() {
      await alpha.stop();
      await bravo.stop();
    },
  };
}
