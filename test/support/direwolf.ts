// Two Direwolf AFSK 1200 soft modems joined by audio pipes, as a radio link for two hfmail stations. Each runs
// with its own config and HOME (for its .asoundrc) in a temporary folder; it reads the other's audio from a FIFO
// on stdin and writes its own through ALSA's `file` plugin into our real-time pacer (audio-pacer.mjs), which
// feeds the other's FIFO. The pair offers KISS on two TCP ports. Everything runs in one process group per modem
// and is stopped by that group's id, also when a test fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const PACER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'audio-pacer.mjs');
/** 16-bit mono samples at 44.1 kHz. */
const AUDIO_BYTES_PER_S = 88_200;

/** Why Direwolf tests cannot run here (no `direwolf` binary), or undefined when they can. */
export function direwolfMissing(): string | undefined {
  const r = spawnSync('direwolf', ['-h'], { stdio: 'ignore', timeout: 10_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return 'direwolf is not installed (apt-get install direwolf; .ci/run installs it)';
  return undefined;
}

export interface ModemOptions {
  /** Bit error rate added on receive (Direwolf's -e). */
  readonly receiveBer?: number;
  /** FX.25 on transmit with this many check bytes (Direwolf's -X: 16, 32 or 64). */
  readonly fx25?: 16 | 32 | 64;
  /** TXDELAY in 10 ms units (the config's, kept when the host sends no KISS set-up). */
  readonly txDelay?: number;
}

export interface DirewolfPair {
  /** The KISS TCP ports of modem A and modem B. */
  readonly kissA: number;
  readonly kissB: number;
  readonly dir: string;
  /** The modems' own logs, for a failing test's message. */
  logs(): string;
  /** PIDs of the two modems (each leads its process group). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

interface Modem {
  readonly child: ChildProcess;
  readonly log: string;
  exited: boolean;
}

/** Every modem group still running, so an exit of the test process (a failure, a signal) takes them along. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Starts modems A and B and waits until both KISS ports answer (or throws with their logs). */
export async function startDirewolfPair(a: ModemOptions = {}, b: ModemOptions = {}): Promise<DirewolfPair> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-direwolf-'));
  const modems: Modem[] = [];
  const ports = { A: await kissPort(), B: await kissPort() };
  const stop = async () => {
    for (const m of modems) if (!m.exited) killGroup(m.child.pid!, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (modems.some((m) => !m.exited) && Date.now() < deadline) await sleep(50);
    for (const m of modems) {
      // The pacers and shells of the ALSA plugin are in the group too: make sure none is left.
      killGroup(m.child.pid!, 'SIGKILL');
      running.delete(m.child.pid!);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = () => modems.map((m, i) => `--- modem ${'AB'[i]} ---\n${tail(m.log)}`).join('\n');
  try {
    spawnSync('mkfifo', [path.join(dir, 'a2b.fifo'), path.join(dir, 'b2a.fifo')], { stdio: 'ignore' });
    for (const [name, o] of [['A', a], ['B', b]] as const) {
      const home = path.join(dir, name);
      spawnSync('mkdir', ['-p', home]);
      const out = name === 'A' ? 'a2b' : 'b2a';
      const inp = name === 'A' ? 'b2a' : 'a2b';
      writeFileSync(
        path.join(home, 'direwolf.conf'),
        [
          'ADEVICE stdin dwout',
          'ARATE 44100',
          'ACHANNELS 1',
          'CHANNEL 0',
          `MYCALL N0CALL-${name === 'A' ? 1 : 2}`,
          'MODEM 1200',
          `TXDELAY ${o.txDelay ?? 30}`,
          `KISSPORT ${ports[name]}`,
          'AGWPORT 0',
          // The two pipes are separate, and no audio flows while the other side is silent, so the carrier
          // detect would stay on after each transmission: transmit without waiting for a clear channel.
          'FULLDUP ON',
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(home, '.asoundrc'), `pcm.dwout { type file slave.pcm "null" file "| exec ${process.execPath} ${PACER} ${AUDIO_BYTES_PER_S} > ../${out}.fifo" format "raw" }\n`);
      const log = path.join(dir, `${name}.log`);
      const logFd = openSync(log, 'w');
      // Read-write, so the FIFO never reads as closed while the other side is not writing.
      const inFd = openSync(path.join(dir, `${inp}.fifo`), 'r+');
      const args = ['-c', 'direwolf.conf', '-t', '0', '-a', '0', '-q', 'd'];
      if (o.receiveBer !== undefined) args.push('-e', String(o.receiveBer));
      if (o.fx25 !== undefined) args.push('-X', String(o.fx25));
      const child = spawn('direwolf', args, { cwd: home, env: { ...process.env, HOME: home }, detached: true, stdio: [inFd, logFd, logFd] });
      closeSync(inFd);
      closeSync(logFd);
      const m: Modem = { child, log, exited: false };
      child.once('exit', () => (m.exited = true));
      child.once('error', () => (m.exited = true));
      modems.push(m);
      if (child.pid !== undefined) running.add(child.pid);
    }
    for (const port of [ports.A, ports.B]) {
      if (!(await waitPort(port, 20_000, () => modems.some((m) => m.exited)))) throw new Error(`the Direwolf KISS port ${port} did not open`);
    }
  } catch (err) {
    const text = `${(err as Error).message}\n${logs()}`;
    await stop();
    throw new Error(text);
  }
  return { kissA: ports.A, kissB: ports.B, dir, logs, pids: modems.map((m) => m.child.pid!), stop };
}

/**
 * A free TCP port that Direwolf takes: it refuses ports above 49151 (the registered range) and listens on 8001
 * instead, so the system's ephemeral ports (up to 60999) will not do.
 */
async function kissPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * (49_151 - 20_000));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitPort(port: number, timeoutMs: number, dead: () => boolean): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !dead()) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}
