// npm run smtp-load [-- --idle N] [--uploads N] [--flood N] [--size BYTES] [--memory-cap BYTES]
//
// Memory of a gateway process under SMTP load (issue #13): `hfmail start` runs as a child on a loopback port with
// a Maildir route; this script holds N idle connections, then sends M concurrent messages of SIZE bytes, then a
// flood of F concurrent ones, which the DATA memory cap (limits.maxDataBytesInMemory, 64 MiB unless --memory-cap)
// turns away with 452 4.3.1 where they would be held at once, instead of buffering them all. It prints the
// gateway's resident memory (VmRSS, and VmHWM, its peak) after each step and the replies counted; it exits 1
// when a reply is neither 250 nor (in the flood) 452.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const idle = arg('idle', 500);
const uploads = arg('uploads', 8);
const flood = arg('flood', 40);
const size = arg('size', 9 * 1024 * 1024);
const memoryCap = arg('memory-cap', 64 * 1024 * 1024);

const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-load-'));
const port = 20000 + (process.pid % 20000);
writeFileSync(
  path.join(dir, 'station.yaml'),
  [
    `listen: 127.0.0.1:${port}`,
    'data: ./data',
    `limits: { maxConnections: ${idle + uploads + flood + 10}, maxConnectionsPerClient: ${idle + uploads + flood + 10}, maxDataBytesInMemory: ${memoryCap} }`,
    'routes:',
    '  - { domains: ["*"], via: "maildir:./mail" }',
  ].join('\n') + '\n',
);
const child = spawn(process.execPath, ['bin/hfmail.js', 'start', '--config', path.join(dir, 'station.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HFMAIL_LOG_LEVEL: 'warn' } });
child.stderr.on('data', () => undefined);

const memory = () => {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return `RSS ${(kb('VmRSS') / 1024).toFixed(0)} MiB, peak ${(kb('VmHWM') / 1024).toFixed(0)} MiB`;
};

/** One SMTP session that waits for each reply; resolves to the final reply's code, or null when only connecting. */
function session(body: Buffer | null): Promise<{ code: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const steps = body ? ['EHLO load.example', 'MAIL FROM:<load@field.example>', 'RCPT TO:<ops@field.example>', 'DATA', null] : [];
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (d: string) => {
      buffer += d;
      for (let m = /^(\d{3})[ ][^\r\n]*\r\n/m.exec(buffer); m; m = /^(\d{3})[ ][^\r\n]*\r\n/m.exec(buffer)) {
        buffer = buffer.slice(m.index + m[0].length);
        const code = m[1]!;
        if (!body || steps.length === 0 || (code[0] !== '2' && code[0] !== '3')) return resolve({ code, socket });
        const next = steps.shift();
        if (next === null) socket.write(Buffer.concat([body, Buffer.from('.\r\n')]));
        else socket.write(`${next}\r\n`);
      }
    });
  });
}

const waitListening = async () => {
  for (let i = 0; i < 600; i++) {
    const ok = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gateway did not listen');
};

const line = 'x'.repeat(998) + '\r\n';
const message = Buffer.from('Subject: load\r\n\r\n' + line.repeat(Math.ceil(size / line.length)));
const count = (codes: string[]) => Object.entries(codes.reduce<Record<string, number>>((a, c) => ((a[c] = (a[c] ?? 0) + 1), a), {})).map(([c, n]) => `${n} x ${c}`).join(', ');
let ok = true;
try {
  await waitListening();
  console.log(`started: ${memory()}`);
  const held = await Promise.all(Array.from({ length: idle }, () => session(null)));
  console.log(`${idle} idle connections: ${memory()} (${count(held.map((h) => h.code))})`);
  const up = await Promise.all(Array.from({ length: uploads }, () => session(message)));
  console.log(`${uploads} concurrent ${(message.length / 1048576).toFixed(1)} MiB messages: ${memory()} (${count(up.map((u) => u.code))})`);
  if (up.some((u) => u.code !== '250')) ok = false;
  for (const u of up) u.socket.destroy();
  const fl = await Promise.all(Array.from({ length: flood }, () => session(message)));
  console.log(`${flood} concurrent ${(message.length / 1048576).toFixed(1)} MiB messages: ${memory()} (${count(fl.map((u) => u.code))})`);
  if (fl.some((u) => u.code !== '250' && u.code !== '452')) ok = false;
  for (const u of [...held, ...fl]) u.socket.destroy();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
