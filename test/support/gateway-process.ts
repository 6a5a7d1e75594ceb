import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HFMAIL_BIN = path.join(REPO, 'bin', 'hfmail.js');

/** A port that was free a moment ago on 127.0.0.1 (the usual small race is acceptable for a benchmark). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `node bin/hfmail.js start` as a child process, with its own temporary data folder. */
export class GatewayProcess {
  readonly dir: string;
  readonly dataDir: string;
  private child: ChildProcess | null = null;
  private stderrLines: string[] = [];
  private partial = '';
  stderrLineCount = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** True once we asked it to stop; an exit before that is a crash. */
  stopping = false;
  private exited!: Promise<void>;

  constructor(
    readonly port: number,
    private readonly keepLines = 200,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-proc-'));
    this.dataDir = path.join(this.dir, 'data');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== null && this.exit === null;
  }

  /** Starts the gateway; after it has exited, starts it again on the same data folder. */
  start(env: Record<string, string> = {}, extraArgs: readonly string[] = []): void {
    this.exit = null;
    this.stopping = false;
    const child = spawn(process.execPath, [HFMAIL_BIN, 'start', '--listen', `127.0.0.1:${this.port}`, '--data', this.dataDir, ...extraArgs], {
      cwd: this.dir,
      env: { ...process.env, HFMAIL_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      child.once('error', (err) => {
        this.record(`[spawn error] ${err.message}\n`);
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.record(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.record(d));
  }

  private record(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      this.stderrLineCount++;
      this.stderrLines.push(line);
    }
    if (this.stderrLines.length > this.keepLines) this.stderrLines.splice(0, this.stderrLines.length - this.keepLines);
  }

  /** The last `n` lines the gateway wrote (stderr and stdout interleaved). */
  tail(n = 30): string[] {
    const lines = this.partial ? [...this.stderrLines, this.partial] : this.stderrLines;
    return lines.slice(-n);
  }

  /** Waits until the SMTP port answers with a greeting; fails early if the process exits. */
  async waitReady(timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      if (this.exit) throw new Error(`gateway exited during start-up (${describeExit(this.exit)})`);
      if (await greets(this.port)) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`gateway did not accept connections on 127.0.0.1:${this.port} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  async stop(graceMs = 5_000): Promise<{ graceful: boolean; exit: string; alreadyExited: boolean }> {
    if (!this.child) return { graceful: true, exit: 'not started', alreadyExited: false };
    if (this.exit) return { graceful: false, exit: describeExit(this.exit), alreadyExited: true };
    this.stopping = true;
    this.child.kill('SIGTERM');
    const inTime = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!inTime) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    // Graceful: it left on SIGTERM within the grace period, with status 0 (hfmail exits 1 if stopping failed).
    return { graceful: inTime && this.exit!.code === 0, exit: describeExit(this.exit!), alreadyExited: false };
  }

  /** SIGKILL, as a power cut would: no handler runs. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.child || this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Last resort from a synchronous 'exit' handler: no waiting. */
  killNow(): void {
    if (this.child && !this.exit) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

/** Connects, waits for a 220 greeting, and hangs up. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = '';
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) socket.end('QUIT\r\n');
      else socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2_000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buf += d;
      if (/(?:^|\r\n)\d{3}(?: [^\r\n]*)?\r\n$/.test(buf)) done(buf.startsWith('220'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}
