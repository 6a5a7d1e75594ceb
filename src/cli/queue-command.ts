import { writeSync } from 'node:fs';
import type { Command } from 'commander';
import { openQueueView, stationSettings, type QueueEntry } from '../gateway/index.ts';

export function registerQueue(program: Command): void {
  program
    .command('queue')
    .description('list queued, held and corrupt messages, highest priority first, with why a message is held')
    .option('-c, --config <file>', 'station configuration (YAML), to find the data folder')
    .option('-d, --data <dir>', 'data folder (default ./hfmail-data)')
    .option('--json', 'print one JSON array (streamed: memory stays flat however long the queue)')
    .option('-n, --limit <n>', 'show at most N messages (the first N in sending order)')
    .action((opts: { config?: string; data?: string; json?: boolean; limit?: string }) => {
      if (opts.limit !== undefined && !/^\d+$/.test(opts.limit)) throw new Error(`--limit must be a non-negative integer, not ${opts.limit}`);
      const limit = opts.limit === undefined ? Infinity : Number(opts.limit);
      const view = openQueueView(stationSettings(opts));
      try {
        if (opts.json) writeJson(view.entries(limit));
        else writeText(view.entries(limit), view.total());
      } finally {
        view.close();
      }
    });
}

/** One JSON array, written an entry at a time. */
function writeJson(entries: Iterable<QueueEntry>): void {
  let first = true;
  for (const e of entries) {
    writeOut((first ? '[\n' : ',\n') + JSON.stringify(e, null, 2).replace(/^/gm, '  '));
    first = false;
  }
  writeOut(first ? '[]\n' : '\n]\n');
}

function writeText(entries: Iterable<QueueEntry>, total: number): void {
  let shown = 0;
  for (const e of entries) {
    writeOut(formatEntry(e));
    shown++;
  }
  if (total === 0) writeOut('queue is empty\n');
  else writeOut(shown < total ? `${shown} of ${total} message(s) shown (--limit)\n` : `${total} message(s)\n`);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Synchronous, so a long listing holds one entry at a time. A full pipe (EAGAIN) is waited out; a closed one
 * (`| head`) ends the listing quietly.
 */
function writeOut(text: string): void {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(1, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(0);
      if (code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

function formatEntry(e: QueueEntry): string {
  const lines: string[] = [];
  const deadlines = [e.by && `BY ${e.by.remainingSeconds}s;${e.by.mode}${e.by.trace ? 'T' : ''}`, e.aby && `ABY ${e.aby.remainingSeconds}s;${e.aby.mode}`]
    .filter(Boolean)
    .join(' ');
  lines.push(
    `${e.id}  prio ${signed(e.priority.value)} (${e.priority.label}, ${e.priority.source})  ${e.size} B  age ${age(e.ageSeconds)}  from <${e.sender}>` +
      (e.envid ? `  envid ${e.envid}` : '') +
      (deadlines ? `  ${deadlines}` : '') +
      (e.eta ? `  ETA ~${e.eta.seconds}s to ${e.eta.peer}` : '') +
      attention(e),
  );
  for (const r of e.recipients) {
    const extras = [r.notify !== null && `notify=${r.notify}`, r.orcpt && `orcpt=${r.orcpt}`, r.arcpt && `arcpt=${r.arcpt}`, `via ${r.route}`].filter(Boolean);
    lines.push(`    -> <${r.address}> ${r.state}  ${extras.join(' ')}${r.status ? `  [${r.status.status} ${r.status.text}]` : ''}`);
  }
  return lines.join('\n') + '\n';
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
