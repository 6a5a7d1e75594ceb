/**
 * Ingest benchmark: the real gateway (`node bin/hfmail.js start`) as a child process, fed by C concurrent SMTP
 * connections; measures how long each message waits between the end-of-data "." and its 250 (which the gateway
 * sends only after the queue commit is fsync'd), plus overall messages/s, then checks the queue holds every message.
 *
 *   npm run bench:ingest -- [--count 2000] [--connections 8] [--size 2048] [--backlog N] [--new-connection] [--no-postfix]
 *                           [--json PATH] [--split-end]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { RawSmtp } from '../test/support/smtp-client.ts';
import { describeExit, freePort, GatewayProcess, HFMAIL_BIN, REPO } from '../test/support/gateway-process.ts';
import { ptyPair } from '../test/support/pty-pair.ts';
import { benchMessage, type BenchMessage } from './message-gen.ts';
import { comparePostfix, postfixMissing, type LoadResult } from './postfix-compare.ts';

/** Resident memory of a process, MiB (Linux). */
function rssMb(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

const execFileAsync = promisify(execFile);

interface Options {
  count: number;
  connections: number;
  size: number;
  json: string;
  /** Write the body and the final "." separately (shows the Nagle/delayed-ACK stall); off by default. */
  splitEnd: boolean;
  /**
   * Messages queued first (not measured) for a radio link that is down: a link to `bravo` on a serial line
   * (a socat pty) whose far end nobody answers, so the station keeps calling while the backlog waits.
   */
  backlog: number;
  /** A new connection for every message (connect, EHLO, one transaction, QUIT), as most clients and MTAs submit. */
  newConnection: boolean;
  /** Also run Postfix's smtp-source against hfmail and a private Postfix, alternating, and print the ratios. */
  postfix: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '2000' },
      connections: { type: 'string', default: '8' },
      size: { type: 'string', default: '2048' },
      json: { type: 'string' },
      'split-end': { type: 'boolean', default: false },
      backlog: { type: 'string', default: '0' },
      'new-connection': { type: 'boolean', default: false },
      'no-postfix': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench:ingest -- [--count N] [--connections C] [--size BYTES] [--backlog N] [--new-connection] [--no-postfix] [--json PATH] [--split-end]\n');
    process.exit(0);
  }
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${text}"`);
    return n;
  };
  return {
    count: int('count', values.count, 1),
    connections: int('connections', values.connections, 1),
    size: int('size', values.size, 1024),
    json: values.json ? path.resolve(values.json) : path.join(REPO, 'bench', 'results', 'ingest.json'),
    splitEnd: values['split-end'],
    backlog: int('backlog', values.backlog, 0),
    newConnection: values['new-connection'],
    postfix: !values['no-postfix'],
  };
}

interface Failure {
  index: number;
  connection: number;
  stage: string;
  reply: string;
}

interface SendResult {
  latencies: number[]; // ms, accepted messages only
  failures: Failure[];
  accepted: number;
  contentBytes: number;
  wireBytes: number;
  reconnects: number;
  wallMs: number;
}

const MAX_RECONNECTS = 3;

/** The traffic: C workers pull message indexes from one counter until `count` are taken. */
async function send(port: number, opts: Options, messages: readonly BenchMessage[]): Promise<SendResult> {
  const result: SendResult = { latencies: [], failures: [], accepted: 0, contentBytes: 0, wireBytes: 0, reconnects: 0, wallMs: 0 };
  let next = 0;
  const fail = (f: Failure) => result.failures.push({ ...f, reply: f.reply.replace(/\r\n/g, ' | ') });

  async function worker(w: number): Promise<void> {
    let client: RawSmtp | null = null;
    let reconnects = 0;
    const open = async (): Promise<RawSmtp> => {
      const c = await RawSmtp.connect(port);
      const ehlo = await c.ehlo(`bench-${w}.example`);
      if (!ehlo.startsWith('250')) throw new Error(`EHLO refused: ${ehlo}`);
      return c;
    };
    try {
      while (next < opts.count) {
        const index = next++;
        const m = messages[index]!;
        let stage = 'connect';
        try {
          client ??= await open();
          const c: RawSmtp = client;
          stage = 'MAIL';
          const mail = await c.cmd(`MAIL FROM:<${m.sender}> ${m.mailParams}`);
          if (!mail.startsWith('250')) {
            fail({ index, connection: w, stage, reply: mail });
            await c.cmd('RSET');
            continue;
          }
          stage = 'RCPT';
          let rcptOk = true;
          for (const r of m.recipients) {
            const rcpt = await c.cmd(`RCPT TO:<${r.address}>${r.params ? ' ' + r.params : ''}`);
            if (!rcpt.startsWith('250')) {
              fail({ index, connection: w, stage: `RCPT <${r.address}>`, reply: rcpt });
              rcptOk = false;
              break;
            }
          }
          if (!rcptOk) {
            await c.cmd('RSET');
            continue;
          }
          stage = 'DATA';
          const go = await c.cmd('DATA');
          if (!go.startsWith('354')) {
            fail({ index, connection: w, stage, reply: go });
            await c.cmd('RSET');
            continue;
          }
          // The body and the final "." go out in one write: written separately, the small ".\r\n" segment waits
          // behind Nagle's algorithm for the peer's delayed ACK (~40 ms on Linux) and that wait would dominate.
          stage = 'end of data';
          let t0: number;
          if (opts.splitEnd) {
            c.write(m.wire);
            t0 = performance.now();
            c.write('.\r\n');
          } else {
            t0 = performance.now();
            c.write(m.wire + '.\r\n');
          }
          const final = await c.reply();
          const ms = performance.now() - t0;
          if (final.startsWith('250')) {
            result.latencies.push(ms);
            result.accepted++;
            result.contentBytes += m.content.length;
            result.wireBytes += m.wire.length + 3;
          } else {
            fail({ index, connection: w, stage, reply: final });
          }
          if (opts.newConnection) {
            await c.quit();
            client = null;
          }
        } catch (err) {
          fail({ index, connection: w, stage, reply: `error: ${(err as Error).message}` });
          client?.destroy();
          client = null;
          if (++reconnects > MAX_RECONNECTS) {
            fail({ index: -1, connection: w, stage: 'worker', reply: `gave up after ${MAX_RECONNECTS} reconnects` });
            return;
          }
          result.reconnects++;
        }
      }
    } finally {
      if (client) await client.quit();
    }
  }

  const t0 = performance.now();
  await Promise.all(Array.from({ length: opts.connections }, (_, w) => worker(w)));
  result.wallMs = performance.now() - t0;
  // Messages no worker got to (every worker gave up) are failures too.
  for (let index = next; index < opts.count; index++) fail({ index, connection: -1, stage: 'not sent', reply: 'all connections gave up' });
  return result;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface QueueCheck {
  queued: number;
  recipients: number;
  withBy: number;
  byRequestedPriority: Record<string, number>;
  problems: string[];
}

/** `hfmail queue --json` against the data folder, compared with what we sent. */
async function checkQueue(dataDir: string, sent: readonly BenchMessage[], acceptedIdx: ReadonlySet<number>): Promise<QueueCheck> {
  // The queue also holds the backlog, if any: those messages are part of `sent` and `acceptedIdx` too.
  const { stdout } = await execFileAsync(process.execPath, [HFMAIL_BIN, 'queue', '--data', dataDir, '--json'], {
    cwd: REPO,
    maxBuffer: 1 << 30,
    env: { ...process.env, HFMAIL_LOG_LEVEL: 'warn' },
  });
  const entries = JSON.parse(stdout) as { priority: { requested?: number }; by: unknown; recipients: unknown[] }[];
  const check: QueueCheck = { queued: entries.length, recipients: 0, withBy: 0, byRequestedPriority: {}, problems: [] };
  for (const e of entries) {
    check.recipients += e.recipients.length;
    if (e.by) check.withBy++;
    const k = String(e.priority.requested ?? 'none');
    check.byRequestedPriority[k] = (check.byRequestedPriority[k] ?? 0) + 1;
  }
  const expected = { recipients: 0, withBy: 0, byRequestedPriority: {} as Record<string, number> };
  for (const m of sent) {
    if (!acceptedIdx.has(m.index)) continue;
    expected.recipients += m.recipients.length;
    if (m.deliverBy) expected.withBy++;
    const k = String(m.priority);
    expected.byRequestedPriority[k] = (expected.byRequestedPriority[k] ?? 0) + 1;
  }
  if (check.recipients !== expected.recipients) check.problems.push(`recipients in queue ${check.recipients}, sent ${expected.recipients}`);
  if (check.withBy !== expected.withBy) check.problems.push(`messages with BY in queue ${check.withBy}, sent ${expected.withBy}`);
  const keys = new Set([...Object.keys(check.byRequestedPriority), ...Object.keys(expected.byRequestedPriority)]);
  for (const k of keys) {
    if ((check.byRequestedPriority[k] ?? 0) !== (expected.byRequestedPriority[k] ?? 0))
      check.problems.push(`MT-PRIORITY=${k}: ${check.byRequestedPriority[k] ?? 0} in queue, ${expected.byRequestedPriority[k] ?? 0} sent`);
  }
  return check;
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ')).join('\n');
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<number> {
  const opts = parseOptions();
  const messages = Array.from({ length: opts.count }, (_, i) => benchMessage(i, opts.size));

  const gateway = new GatewayProcess(await freePort());
  let cleaned = false;
  const cleanupSync = () => {
    if (cleaned) return;
    gateway.killNow();
    gateway.removeDir();
  };
  process.once('exit', cleanupSync);
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${sig}, stopping the gateway\n`);
    gateway.stop(2_000).finally(() => {
      cleanupSync();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const printGatewayTail = (why: string) => {
    const tail = gateway.tail(30);
    process.stderr.write(`--- gateway output (${why}; last ${tail.length} of ${gateway.stderrLineCount} lines) ---\n`);
    for (const line of tail) process.stderr.write(`  ${line}\n`);
    process.stderr.write('--- end of gateway output ---\n');
  };

  let exitCode = 0;
  let pty: Awaited<ReturnType<typeof ptyPair>> | undefined;
  try {
    // The station always has a radio link to bravo that is down (nobody on the far end of its serial line), so
    // that runs with and without a backlog differ only in the backlog.
    pty = await ptyPair();
    writeFileSync(path.join(gateway.dir, 'link.key'), 'bench key, long enough for a link\n');
    writeFileSync(
      path.join(gateway.dir, 'station.yaml'),
      `station: alpha\nroutes:\n  - { domains: ["*"], via: "link:bravo" }\nlinks:\n  - { peer: bravo, port: "${pty.a}", profile: stanag4539-2400, key: ./link.key }\n`,
    );
    gateway.start({}, ['--config', path.join(gateway.dir, 'station.yaml')]);
    const startupMs = await gateway.waitReady();
    const rssIdle = rssMb(gateway.pid);
    if (opts.backlog > 0) {
      process.stdout.write(`queueing a backlog of ${opts.backlog} messages for the link (not measured)...\n`);
      const pre = Array.from({ length: opts.backlog }, (_, i) => benchMessage(opts.count + i, opts.size));
      const b = await send(gateway.port, { ...opts, count: opts.backlog }, pre);
      if (b.accepted !== opts.backlog) throw new Error(`the backlog: ${b.accepted} of ${opts.backlog} accepted`);
      await new Promise((r) => setTimeout(r, 3000)); // let the link take the news in before measuring
    }
    const rssBefore = rssMb(gateway.pid);
    process.stdout.write(
      `hfmail ingest: gateway pid ${gateway.pid} on 127.0.0.1:${gateway.port} (ready in ${startupMs} ms), data ${gateway.dataDir}\n` +
        `sending ${opts.count} messages of ${opts.size} bytes over ${opts.connections} connections...\n`,
    );

    const r = await send(gateway.port, opts, messages);
    const crashedDuringSend = !gateway.alive;
    if (crashedDuringSend) printGatewayTail(`gateway died during the run: ${describeExit(gateway.exit!)}`);

    const rssAfter = rssMb(gateway.pid);
    const all = [...messages, ...Array.from({ length: opts.backlog }, (_, i) => benchMessage(opts.count + i, opts.size))];
    const acceptedIdx = new Set<number>(Array.from({ length: opts.count + opts.backlog }, (_, i) => i));
    for (const f of r.failures) acceptedIdx.delete(f.index);
    let queue: QueueCheck | null = null;
    let queueError: string | null = null;
    try {
      queue = await checkQueue(gateway.dataDir, all, acceptedIdx);
    } catch (err) {
      queueError = (err as Error).message;
    }
    const stopped = await gateway.stop();

    const sorted = [...r.latencies].sort((a, b) => a - b);
    const failedMessages = opts.count - r.accepted;
    const summary = {
      messagesPerSec: (r.accepted / r.wallMs) * 1000,
      bytesPerSec: (r.contentBytes / r.wallMs) * 1000,
      wireBytesPerSec: (r.wireBytes / r.wallMs) * 1000,
      latencyMs: {
        min: sorted[0] ?? NaN,
        mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
      },
    };

    process.stdout.write(
      '\n' +
        table([
          ['count', 'connections', 'messages/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'failures', 'queued'],
          [
            opts.count,
            opts.connections,
            fmt(summary.messagesPerSec),
            fmt(summary.latencyMs.p50, 2),
            fmt(summary.latencyMs.p90, 2),
            fmt(summary.latencyMs.p99, 2),
            fmt(summary.latencyMs.max, 2),
            failedMessages,
            queue ? queue.queued : 'error',
          ],
        ]) +
        '\n\n' +
        `wall ${fmt(r.wallMs / 1000, 2)} s; ${fmt(summary.bytesPerSec / 1024, 1)} KiB/s of message content ` +
        `(${fmt(summary.wireBytesPerSec / 1024, 1)} KiB/s DATA on the wire); latency min ${fmt(summary.latencyMs.min, 2)} ms, mean ${fmt(summary.latencyMs.mean, 2)} ms; ` +
        `gateway RSS ${rssIdle ?? '?'} MiB idle, ${rssBefore ?? '?'} MiB with a backlog of ${opts.backlog} for the link, ${rssAfter ?? '?'} MiB after the run; ` +
        `reconnects ${r.reconnects}; gateway stop: ${stopped.alreadyExited ? 'had already exited' : stopped.graceful ? 'graceful' : 'forced'} (${stopped.exit})\n`,
    );

    const problems: string[] = [];
    if (failedMessages > 0) problems.push(`${failedMessages} of ${opts.count} messages were not accepted`);
    if (queueError) problems.push(`hfmail queue failed: ${queueError}`);
    if (queue && queue.queued !== r.accepted + opts.backlog) problems.push(`queue holds ${queue.queued} messages, ${r.accepted} were accepted after a backlog of ${opts.backlog}`);
    if (queue) problems.push(...queue.problems);
    if (crashedDuringSend) problems.push(`gateway died during the run (${describeExit(gateway.exit!)})`);
    if (!stopped.graceful && !stopped.alreadyExited) problems.push(`gateway did not stop cleanly on SIGTERM (${stopped.exit})`);
    for (const f of r.failures.slice(0, 10)) process.stdout.write(`  failure: message ${f.index} (connection ${f.connection}) at ${f.stage}: ${f.reply}\n`);
    if (r.failures.length > 10) process.stdout.write(`  ... and ${r.failures.length - 10} more failures\n`);
    for (const p of problems) process.stdout.write(`PROBLEM: ${p}\n`);
    if (!crashedDuringSend && !stopped.graceful) printGatewayTail('gateway would not stop cleanly');
    else if (!crashedDuringSend && gateway.stderrLineCount > 0) printGatewayTail(`the gateway logged ${gateway.stderrLineCount} lines at warn level or above`);

    // Side by side with Postfix: the ratios issue #15 sets targets for (>= 1.0 in every row).
    let postfix: LoadResult[] | { skipped: string } = { skipped: 'not asked for (--no-postfix)' };
    const missing = postfixMissing();
    if (opts.postfix && missing) postfix = { skipped: missing };
    else if (opts.postfix) {
      process.stdout.write('\nhfmail against Postfix (smtp-source, 3 alternating rounds per load, median ratio):\n');
      postfix = await comparePostfix(3, undefined, (line) => process.stdout.write(line + '\n'));
      process.stdout.write(
        '\n' +
          table([
            ['load', 'hfmail msg/s', 'Postfix msg/s', 'hfmail/Postfix'],
            ...postfix.map((r) => [r.load.name, fmt(median(r.hfmailPerSec), 0), fmt(median(r.postfixPerSec), 0), fmt(r.ratio, 2)]),
          ]) +
          '\n',
      );
    }
    if ('skipped' in postfix) process.stdout.write(`Postfix comparison skipped: ${postfix.skipped}\n`);

    const report = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
      params: { count: opts.count, connections: opts.connections, messageBytes: opts.size, splitEnd: opts.splitEnd, backlog: opts.backlog, newConnection: opts.newConnection, logLevel: 'warn', gateway: 'node bin/hfmail.js start --config (a link to bravo that is down)' },
      results: {
        accepted: r.accepted,
        failures: failedMessages,
        failureSamples: r.failures.slice(0, 50),
        queued: queue?.queued ?? null,
        queueCheck: queue ?? { error: queueError },
        wallMs: r.wallMs,
        ...summary,
        contentBytes: r.contentBytes,
        wireBytes: r.wireBytes,
        reconnects: r.reconnects,
        gatewayStartupMs: startupMs,
        rssMiB: { idle: rssIdle, withBacklog: rssBefore, afterRun: rssAfter },
        gatewayStop: stopped,
        gatewayOutputLines: gateway.stderrLineCount,
        gatewayOutputTail: gateway.tail(20),
        postfixComparison: postfix,
      },
      problems,
    };
    mkdirSync(path.dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`results written to ${path.relative(process.cwd(), opts.json) || opts.json}\n`);
    if (problems.length) exitCode = 1;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    printGatewayTail('benchmark aborted');
    exitCode = 1;
  } finally {
    pty?.close();
    await gateway.stop(3_000).catch(() => undefined);
    cleanupSync();
    cleaned = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}

process.exitCode = await main();
