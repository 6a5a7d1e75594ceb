import type { Command } from 'commander';
import { queueSnapshot, stationSettings, type QueueEntry } from '../gateway/index.ts';

export function registerQueue(program: Command): void {
  program
    .command('queue')
    .description('list queued, held and corrupt messages, highest priority first, with why a message is held')
    .option('-c, --config <file>', 'station configuration (YAML), to find the data folder')
    .option('-d, --data <dir>', 'data folder (default ./hfmail-data)')
    .option('--json', 'print one JSON array')
    .action((opts: { config?: string; data?: string; json?: boolean }) => {
      const entries = queueSnapshot(stationSettings(opts));
      process.stdout.write(opts.json ? JSON.stringify(entries, null, 2) + '\n' : formatQueue(entries));
    });
}

function formatQueue(entries: readonly QueueEntry[]): string {
  if (entries.length === 0) return 'queue is empty\n';
  const lines: string[] = [];
  for (const e of entries) {
    const deadlines = [e.by && `BY ${e.by.remainingSeconds}s;${e.by.mode}${e.by.trace ? 'T' : ''}`, e.aby && `ABY ${e.aby.remainingSeconds}s;${e.aby.mode}`]
      .filter(Boolean)
      .join(' ');
    lines.push(
      `${e.id}  prio ${signed(e.priority.value)} (${e.priority.label}, ${e.priority.source})  ${e.size} B  age ${age(e.ageSeconds)}  from <${e.sender}>` +
        (e.envid ? `  envid ${e.envid}` : '') +
        (deadlines ? `  ${deadlines}` : '') +
        attention(e),
    );
    for (const r of e.recipients) {
      const extras = [
        r.notify !== null && `notify=${r.notify}`,
        r.orcpt && `orcpt=${r.orcpt}`,
        r.arcpt && `arcpt=${r.arcpt}`,
        `via ${r.route}`,
      ].filter(Boolean);
      lines.push(`    -> <${r.address}> ${r.state}  ${extras.join(' ')}${r.status ? `  [${r.status.status} ${r.status.text}]` : ''}`);
    }
  }
  return lines.join('\n') + `\n${entries.length} message(s)\n`;
}

/** HELD or CORRUPT, and why, on the message's line: what an operator looks for first. */
function attention(e: QueueEntry): string {
  if (e.problem !== undefined) return `  CORRUPT: ${e.problem}`;
  const corrupt = e.recipients.find((r) => r.state === 'corrupt');
  if (corrupt) return `  CORRUPT: ${corrupt.corrupt?.error ?? corrupt.status?.text ?? 'cannot be decoded'}`;
  const held = e.recipients.filter((r) => r.state === 'held');
  if (!held.length) return '';
  const why = [...new Set(held.map((r) => (r.held ? `${r.held.by === 'operator' ? 'by the operator' : 'automatically'}${r.held.reason ? `: ${r.held.reason}` : ''}` : (r.status?.text ?? ''))))];
  const some = held.length < e.recipients.filter((r) => r.state !== 'delivered' && r.state !== 'failed' && r.state !== 'redirected').length ? ` (${held.length} recipient(s))` : '';
  return `  HELD${some} ${why.join('; ')}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function age(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}
