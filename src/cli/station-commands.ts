import type { Command } from 'commander';
import { serialPorts, shippedProfiles } from '../gateway/index.ts';

export function registerStationTools(program: Command): void {
  program
    .command('profiles')
    .description('list the modem and TNC profiles')
    .option('--dir <folder>', 'another folder of profiles')
    .option('--json', 'print JSON')
    .action((opts: { dir?: string; json?: boolean }) => {
      const profiles = [...shippedProfiles(opts.dir).values()];
      if (opts.json) return void process.stdout.write(JSON.stringify(profiles, null, 2) + '\n');
      const rows = profiles.map((p) => [p.name, `${p.onAirBitRate} bit/s`, p.duplex, `${p.turnaroundMs} ms`, p.framing, `${p.maxFrameBytes} B`, p.arq, p.description]);
      const head = ['name', 'on air', 'duplex', 'turnaround', 'framing', 'frame', 'arq', 'description'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      process.stdout.write([head, ...rows].map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]!) : c)).join('  ')).join('\n') + '\n');
    });
  program
    .command('ports')
    .description('list serial ports')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { ports, note } = await serialPorts();
      if (opts.json) return void process.stdout.write(JSON.stringify({ ports, ...(note ? { note } : {}) }, null, 2) + '\n');
      process.stdout.write(ports.length ? ports.map((p) => [p.path, p.manufacturer, p.serialNumber].filter(Boolean).join('  ')).join('\n') + '\n' : 'no serial ports found\n');
      if (note) process.stderr.write(`note: ${note}\n`);
    });
}
