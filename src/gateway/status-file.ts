import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The running gateway's state, rewritten every 2 s in its data folder (hfmail status, queue ETAs, the console). */
export const STATUS_FILE = 'status.json';

/** A status file older than this was left by a gateway that no longer runs (it rewrites it every 2 s). */
const FRESH_MS = 10_000;

/** What the gateway writes there. */
export interface GatewayStatusFile {
  readonly station?: unknown;
  readonly pid: number;
  readonly updatedAt: string;
  readonly listen?: string | null;
  readonly links: Record<string, unknown>[];
}

/**
 * The last status a gateway wrote into `dataDir` (null when none has, or it cannot be read), and whether that
 * gateway still runs: its process exists and the file is fresh.
 */
export function readGatewayStatus(dataDir: string, now = Date.now()): { status: GatewayStatusFile | null; running: boolean } {
  let status: GatewayStatusFile;
  try {
    status = JSON.parse(readFileSync(path.join(dataDir, STATUS_FILE), 'utf8')) as GatewayStatusFile;
  } catch {
    return { status: null, running: false }; // no gateway has run here
  }
  let running = false;
  try {
    process.kill(status.pid, 0);
    running = now - Date.parse(status.updatedAt) < FRESH_MS;
  } catch {
    running = false;
  }
  return { status, running };
}
