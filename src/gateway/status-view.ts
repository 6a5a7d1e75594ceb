import { existsSync } from 'node:fs';
import path from 'node:path';
import { levelLabel } from '../mail/index.ts';
import { MessageStore, QUEUE_DB_FILE } from '../queue/index.ts';
import { readGatewayStatus } from './status-file.ts';
import type { StationSettings } from './station.ts';

export interface StatusReport {
  station: string;
  running: boolean;
  pid: number | null;
  updatedAt: string | null;
  links: Record<string, unknown>[];
  queue: { total: number; byPriority: Record<string, number> };
}

/**
 * What `hfmail status` shows: the gateway's last status file, whether it still runs, and queue counts. The
 * station is the one the status file names (the gateway that writes into this data folder), else the config's.
 */
export function statusReport(settings: StationSettings): StatusReport {
  const dir = path.resolve(settings.baseDir, settings.config.data);
  if (!existsSync(path.join(dir, QUEUE_DB_FILE))) throw new Error(`no gateway data in ${dir}`);
  const { status: s, running } = readGatewayStatus(dir);
  const station = typeof s?.station === 'string' && s.station !== '' ? s.station : settings.config.station;
  const store = MessageStore.open(dir);
  try {
    // Counted by SQL, highest priority first: nothing is decoded, so a long queue costs no memory here.
    const byPriority: Record<string, number> = {};
    let total = 0;
    for (const [value, n] of [...store.operator.queuedByPriority()].sort((a, b) => b[0] - a[0])) {
      byPriority[`${value} (${levelLabel(value, settings.config.priority.policy)})`] = n;
      total += n;
    }
    return { station, running, pid: s?.pid ?? null, updatedAt: s?.updatedAt ?? null, links: s?.links ?? [], queue: { total, byPriority } };
  } finally {
    store.close();
  }
}
