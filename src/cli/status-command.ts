import type { Command } from 'commander';
import { stationSettings, statusReport, type StatusReport } from '../gateway/index.ts';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('link state, queue by priority and the transfer in progress of a running gateway')
    .option('-c, --config <file>', 'station configuration (YAML), to find the data folder')
    .option('-d, --data <dir>', 'data folder (default ./hfmail-data)')
    .option('--json', 'print JSON')
    .action((opts: { config?: string; data?: string; json?: boolean }) => {
      const r = statusReport(stationSettings(opts));
      if (opts.json) return void process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      process.stdout.write(renderStatus(r));
    });
}

/** The status as people read it: one line per link (its trouble named), the transfer in progress, the queue. */
export function renderStatus(r: StatusReport): string {
  const lines = [`station ${r.station}: ${r.running ? `running (pid ${r.pid})` : 'not running'}${r.updatedAt ? `, status of ${r.updatedAt}` : ''}`];
  for (const l of r.links as Record<string, never>[]) {
    const cur = l['current'] as { id: string; sent: number; total: number; priority: number; etaSeconds: number | null; stalledSeconds?: number | null } | undefined;
    lines.push(
      `link to ${l['peer']}: ${l['up'] ? 'up' : `down${problemLabel(l['problemKind'])} (${l['phase']}${l['problem'] ? `: ${l['problem']}` : ''})`}` +
        (l['lastHelloAt'] ? `, hello ${new Date(l['lastHelloAt']).toISOString()}` : '') +
        (l['answerDelayMs'] != null ? `, answer delay ${l['answerDelayMs']} ms` : '') +
        (l['lossRate'] != null ? `, loss ${(Number(l['lossRate']) * 100).toFixed(1)} %` : '') +
        (l['frameSize'] ? `, frames of ${l['frameSize']} B` : ''),
    );
    if (cur && cur.sent < cur.total) {
      const width = 30;
      const done = Math.round((cur.sent / cur.total) * width);
      const when = cur.stalledSeconds != null ? `stalled: no progress for ${cur.stalledSeconds} s` : cur.etaSeconds != null ? `about ${cur.etaSeconds} s left` : '';
      lines.push(`  ${cur.id} prio ${cur.priority} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${cur.sent}/${cur.total} B${when ? `, ${when}` : ''}`);
    }
  }
  lines.push(`queue: ${r.queue.total} message(s)` + Object.entries(r.queue.byPriority).map(([p, n]) => `; priority ${p}: ${n}`).join(''));
  return lines.join('\n') + '\n';
}

/** The kind of trouble a link reports, as the status line names it: no answer is not a wrong key. */
function problemLabel(kind: unknown): string {
  if (kind === 'no-answer') return ': no answer';
  if (kind === 'wrong-key') return ': wrong key';
  if (kind === 'unproven') return ': key not proved (no answer to our replies, or another key)';
  return '';
}
