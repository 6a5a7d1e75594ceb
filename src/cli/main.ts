import { Command } from 'commander';
import { registerDemo } from './demo-command.ts';
import { registerKeygen } from './keygen-command.ts';
import { registerQueue } from './queue-command.ts';
import { registerOperatorCommands } from './operator-commands.ts';
import { registerPasswd } from './passwd-command.ts';
import { registerSim } from './sim-command.ts';
import { registerStart } from './start-command.ts';
import { registerStatus } from './status-command.ts';
import { registerStationTools } from './station-commands.ts';

const program = new Command('hfmail')
  .description(
    'Mail gateway for HF radio links: SMTP in (MT-PRIORITY, DELIVERBY, DSN, ALTRECIP), a durable queue, and a compact\n' +
      'link protocol to the peer gateway over an HF modem or KISS TNC (serial or TCP), highest priority first.\n' +
      'Start with `hfmail demo` (two stations over a simulated radio) or `hfmail start --config station.yaml`.',
  )
  .version('0.1.0');
registerStart(program);
registerDemo(program);
registerQueue(program);
registerOperatorCommands(program);
registerStatus(program);
registerSim(program);
registerStationTools(program);
registerKeygen(program);
registerPasswd(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`hfmail: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
