/**
 * hfmail against Postfix at the front door, on the same machine in the same run: Postfix's own load client,
 * smtp-source, drives each server in turn (alternating, so drifts in the machine's load hit both alike), and the
 * median of the per-round ratios is reported per load. Postfix runs as a private instance (its own config, queue
 * and port) that syncs every message to disk before its 250, as hfmail does. hfmail runs as `hfmail start` on
 * embedded defaults (mail for everyone waits for a radio link).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { freePort, GatewayProcess } from '../test/support/gateway-process.ts';
import { startPrivatePostfix } from '../test/support/private-postfix.ts';

const execFileAsync = promisify(execFile);

export interface Load {
  readonly name: string;
  readonly sessions: number;
  /** smtp-source -d: keep the connection for the next message. */
  readonly reuse: boolean;
  readonly bytes: number;
  readonly messages: number;
}

/** The rows of the comparison that issue #15 measured. */
export const LOADS: readonly Load[] = [
  { name: '8 sessions, new connection per message', sessions: 8, reuse: false, bytes: 2048, messages: 1000 },
  { name: '1 session, new connection per message', sessions: 1, reuse: false, bytes: 2048, messages: 500 },
  { name: '8 sessions, connections reused', sessions: 8, reuse: true, bytes: 2048, messages: 1000 },
  { name: '1 session, connection reused', sessions: 1, reuse: true, bytes: 2048, messages: 500 },
  { name: '100 KB messages, 8 sessions, reused', sessions: 8, reuse: true, bytes: 100 * 1024, messages: 200 },
];

export interface LoadResult {
  load: Load;
  hfmailPerSec: number[];
  postfixPerSec: number[];
  /** Median of hfmail/Postfix over the rounds. */
  ratio: number;
}

const SMTP_SOURCE = ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'].find((p) => existsSync(p));

/** Why the comparison cannot run here, or null when it can. */
export function postfixMissing(): string | null {
  if (!SMTP_SOURCE) return 'smtp-source (Debian package postfix) is not installed';
  if (!['/usr/sbin/postfix', '/usr/bin/postfix'].some((p) => existsSync(p))) return 'postfix is not installed';
  return null;
}

async function rate(port: number, load: Load): Promise<number> {
  const args = ['-s', String(load.sessions), '-l', String(load.bytes), '-m', String(load.messages), '-f', 'load@source.example', '-t', 'sink@example.net'];
  if (load.reuse) args.unshift('-d');
  const t0 = performance.now();
  const { stderr } = await execFileAsync(SMTP_SOURCE!, [...args, `127.0.0.1:${port}`], { timeout: 300_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (stderr.trim()) throw new Error(`smtp-source against port ${port}: ${stderr.trim().split('\n').slice(-2).join(' ')}`);
  return load.messages / seconds;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function comparePostfix(rounds = 3, loads = LOADS, log: (line: string) => void = () => {}): Promise<LoadResult[]> {
  const gateway = new GatewayProcess(await freePort());
  const postfix = await startPrivatePostfix({ port: await freePort() });
  try {
    gateway.start();
    await gateway.waitReady();
    const results: LoadResult[] = [];
    for (const load of loads) {
      const r: LoadResult = { load, hfmailPerSec: [], postfixPerSec: [], ratio: NaN };
      for (let i = 0; i < rounds; i++) {
        r.hfmailPerSec.push(await rate(gateway.port, load));
        r.postfixPerSec.push(await rate(postfix.port, load));
      }
      r.ratio = median(r.hfmailPerSec.map((h, i) => h / r.postfixPerSec[i]!));
      log(`  ${load.name}: hfmail ${median(r.hfmailPerSec).toFixed(0)} msg/s, Postfix ${median(r.postfixPerSec).toFixed(0)} msg/s, ratio ${r.ratio.toFixed(2)}`);
      results.push(r);
    }
    if (!gateway.alive) throw new Error('hfmail exited during the comparison');
    return results;
  } finally {
    await gateway.stop(3_000).catch(() => undefined);
    gateway.removeDir();
    await postfix.stop();
  }
}
