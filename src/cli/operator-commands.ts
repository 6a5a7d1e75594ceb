import type { Command } from 'commander';
import { controlQueue, stationSettings, type QueueAction, type QueueCommandReport } from '../gateway/index.ts';

interface OperatorOptions {
  config?: string;
  data?: string;
  all?: boolean;
  state?: string;
  domain?: string;
  reason?: string;
  json?: boolean;
}

const ACTIONS: readonly { action: QueueAction; description: string }[] = [
  { action: 'hold', description: 'hold a message: its queued recipients wait (not relayed, not sent over the radio) until released' },
  { action: 'release', description: 'release a held message: its recipients are queued again, due now (a corrupt one only once it decodes)' },
  { action: 'requeue', description: 'queue a message again, due now, with its attempts and give-up clock reset (queued and held recipients)' },
  { action: 'delete', description: 'delete a message with its recipients and link transfer state (what the link took is still remembered)' },
];

/** `hfmail hold|release|requeue|delete ID` and `--all [--state S] [--domain D]`, on the queue's database directly. */
export function registerOperatorCommands(program: Command): void {
  for (const { action, description } of ACTIONS) {
    const cmd = program
      .command(`${action} [id]`)
      .description(description)
      .option('-c, --config <file>', 'station configuration (YAML), to find the data folder')
      .option('-d, --data <dir>', 'data folder (default ./hfmail-data)')
      .option('--all', 'every message matching --state and --domain (all of them without filters)')
      .option('--state <state>', 'with --all: recipients in this state (queued, held or corrupt)')
      .option('--domain <domain>', 'with --all: recipients of this domain (".example.org" also matches its subdomains)');
    if (action === 'hold') cmd.option('--reason <text>', 'why, shown by hfmail queue');
    cmd.option('--json', 'print the result as JSON').action((id: string | undefined, opts: OperatorOptions) => {
      const report = controlQueue(stationSettings(opts), {
        action,
        ...(id !== undefined ? { id } : {}),
        ...(opts.all ? { all: true } : {}),
        ...(opts.state !== undefined ? { state: opts.state } : {}),
        ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      });
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report, id));
    });
  }
}

const PAST: Record<QueueAction, string> = { hold: 'held', release: 'released', requeue: 'requeued', delete: 'deleted' };

function formatReport(r: QueueCommandReport, id: string | undefined): string {
  const lines: string[] = [];
  for (const q of r.quarantined) lines.push(`${q.id}: quarantined as corrupt: ${q.error}`);
  for (const c of r.changed) lines.push(`${c.id}: ${PAST[r.action]} ${c.recipients.map((a) => `<${a}>`).join(', ')}`);
  for (const m of r.removed) {
    const link = m.linkBundles + m.linkReceived > 0 ? `, ${m.linkBundles} stored bundle(s) and ${m.linkReceived} received piece(s)` : '';
    lines.push(`${m.id}: deleted (${m.size} B; ${m.recipients.map((x) => `<${x.address}> ${x.state}`).join(', ')}${link})`);
  }
  for (const s of r.skipped) lines.push(`${s.id}: left alone: ${s.why}`);
  const n = r.action === 'delete' ? r.removed.length : r.changed.length;
  if (n === 0) {
    const what = { hold: 'queued', release: 'held or corrupt', requeue: 'queued or held', delete: 'matching' }[r.action];
    lines.push(id !== undefined ? `${id}: nothing to ${r.action} (no ${what} recipients)` : `nothing to ${r.action}: no ${what} recipients match`);
  } else if (id === undefined) {
    lines.push(`${n} message(s) ${PAST[r.action]}`);
  }
  return lines.join('\n') + '\n';
}
