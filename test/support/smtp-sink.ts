import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './gateway-process.ts';

const SMTP_SINK = ['/usr/sbin/smtp-sink', '/usr/bin/smtp-sink'].find((p) => existsSync(p)) ?? 'smtp-sink';

/** Postfix's smtp-sink on a free loopback port, writing each message (with X-Mail-Args/X-Rcpt-Args) to a folder. */
export async function startSmtpSink(): Promise<{ port: number; files(): string[]; stop(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  // smtp-sink drops root privileges to -u; as an ordinary user it needs no -u.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child: ChildProcess = spawn(SMTP_SINK, [...user, '-4', '-d', `${dir}/%Y%m%d-%H%M%S.`, `127.0.0.1:${port}`, '10'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    files: () => readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'latin1')),
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
