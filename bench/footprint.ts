// SMTP ingest against Postfix (bench/postfix-compare.ts: Postfix's smtp-source drives hfmail and a private
// Postfix in alternating rounds) and the gateway's footprint: two `hfmail start` processes joined by socat ptys
// and `hfmail sim channel` (test/support/station-pair.ts), RSS idle and while mail crosses, and CPU seconds (both
// stations, user + system) per MB of mail carried.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RawSmtp } from '../test/support/smtp-client.ts';
import { stationPair } from '../test/support/station-pair.ts';
import type { CorpusMessage } from './corpus.ts';
import { comparePostfix, LOADS, postfixMissing, type LoadResult } from './postfix-compare.ts';

/** A fast full-duplex "radio" so that a megabyte crosses in seconds: the link's own work is what is measured. */
const FAST_PROFILE = [
  'name: bench-fast',
  'description: benchmark line, 1 Mbit/s full duplex',
  'serial: { baudRate: 115200 }',
  'framing: kiss',
  'kiss: { port: 0, txDelayMs: 10, persistence: 255, slotTimeMs: 10, txTailMs: 10, fullDuplex: true }',
  'onAirBitRate: 1000000',
  'duplex: full',
  'turnaroundMs: 0',
  'maxFrameBytes: 1024',
  'window: 256',
  'maxOverS: 2',
  'arq: hfmail',
].join('\n');

export interface Footprint {
  /** What bin/hfmail.js ran: the esbuild bundle, or the sources through tsx (a source file newer than the bundle). */
  ran: 'bundle' | 'sources (tsx)';
  idleRssMb: { alpha: number; bravo: number };
  transferRssMb: { alpha: number; bravo: number };
  messages: number;
  mbCarried: number;
  transferSeconds: number;
  cpuSeconds: { alpha: number; bravo: number };
  cpuSecondsPerMb: number;
  /** Whose messages: the corpus's first, or generated ones when the corpus could not be had. */
  mail?: 'corpus' | 'generated';
}

/** The children of this process whose command line contains `needle`, by pid (read from /proc). */
function childPid(needle: string): number | undefined {
  for (const d of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) return Number(d);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

/** User + system CPU seconds of a process so far. */
function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** bin/hfmail.js's own choice: the bundle unless it is missing or a source file is newer (or HFMAIL_FROM_SOURCE=1). */
function ranFromBundle(): boolean {
  const root = path.resolve(import.meta.dirname, '..');
  const bundle = path.join(root, 'dist', 'hfmail.js');
  if (process.env.HFMAIL_FROM_SOURCE === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const newer = (dir: string): boolean =>
    existsSync(dir) && readdirSync(dir, { withFileTypes: true, recursive: true }).some((e) => e.isFile() && e.name.endsWith('.ts') && statSync(path.join(e.parentPath, e.name)).mtimeMs > built);
  return !newer(path.join(root, 'src')) && !newer(path.join(root, 'sim'));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureFootprint(corpus: readonly CorpusMessage[], log: (s: string) => void = () => {}): Promise<Footprint> {
  const pair = await stationPair(['--bit-rate', '1000000', '--turnaround', '0', '--duplex', 'full'], { logLevel: 'warn', profile: FAST_PROFILE });
  try {
    const pids = { alpha: childPid('alpha.yaml'), bravo: childPid('bravo.yaml') };
    if (!pids.alpha || !pids.bravo) throw new Error('cannot find the stations’ processes');
    await sleep(3000);
    const idleRssMb = { alpha: rssMb(pids.alpha), bravo: rssMb(pids.bravo) };
    // Submit the corpus to alpha (one connection), addressed to bravo's domain, while the radio is silent.
    const c = await RawSmtp.connect(pair.ports.alpha);
    await c.ehlo('client.field.example');
    let bytes = 0;
    for (const m of corpus) {
      await c.cmd('MAIL FROM:<team@field.example> BODY=8BITMIME');
      await c.cmd('RCPT TO:<ops@base.example>');
      const reply = await c.data(Buffer.from(m.bytes));
      if (!reply.startsWith('250')) throw new Error(`alpha refused ${m.name}: ${reply}`);
      bytes += m.bytes.length;
    }
    await c.quit();
    log(`footprint: ${corpus.length} messages (${(bytes / 1e6).toFixed(2)} MB) queued at alpha; radio on`);
    const cpu0 = { alpha: cpuS(pids.alpha), bravo: cpuS(pids.bravo) };
    const t0 = performance.now();
    pair.radio();
    const peak = { alpha: 0, bravo: 0 };
    while (pair.delivered('bravo').length < corpus.length) {
      if (performance.now() - t0 > 300_000) throw new Error(`only ${pair.delivered('bravo').length} of ${corpus.length} delivered in 300 s`);
      peak.alpha = Math.max(peak.alpha, rssMb(pids.alpha));
      peak.bravo = Math.max(peak.bravo, rssMb(pids.bravo));
      await sleep(200);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = { alpha: cpuS(pids.alpha) - cpu0.alpha, bravo: cpuS(pids.bravo) - cpu0.bravo };
    const mb = bytes / 1e6;
    return {
      ran: ranFromBundle() ? 'bundle' : 'sources (tsx)',
      idleRssMb,
      transferRssMb: peak,
      messages: corpus.length,
      mbCarried: Math.round(mb * 1000) / 1000,
      transferSeconds: Math.round(seconds * 10) / 10,
      cpuSeconds: { alpha: Math.round(cpu.alpha * 100) / 100, bravo: Math.round(cpu.bravo * 100) / 100 },
      cpuSecondsPerMb: Math.round(((cpu.alpha + cpu.bravo) / mb) * 100) / 100,
    };
  } finally {
    pair.close();
  }
}

export interface IngestResult {
  postfix: LoadResult[] | null;
  postfixMissing: string | null;
  rounds: number;
}

export async function measureIngest(quick: boolean, log: (s: string) => void = () => {}): Promise<IngestResult> {
  const missing = postfixMissing();
  if (missing) return { postfix: null, postfixMissing: missing, rounds: 0 };
  const rounds = quick ? 1 : 3;
  return { postfix: await comparePostfix(rounds, quick ? LOADS.slice(0, 1) : LOADS, log), postfixMissing: null, rounds };
}
