// The demo a newcomer runs with `npm start`: two stations in one process over a simulated 2400 bit/s HF radio.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { freePort, HFMAIL_BIN } from './support/gateway-process.ts';
import { RawSmtp } from './support/smtp-client.ts';

const run = promisify(execFile);

test('demo: start it, send with swaks, find the file in bravo\'s Maildir, stop it cleanly', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-demo-'));
  const port = await freePort();
  const child = spawn(process.execPath, [HFMAIL_BIN, 'demo', '--data', dir, '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let console = '';
  child.stderr!.on('data', (d: Buffer) => (console += d.toString()));
  try {
    for (let i = 0; i < 100 && !console.includes('Ctrl-C stops both stations'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(console, new RegExp(`swaks --server 127\\.0\\.0\\.1:${port} --from you@field\\.example --to ops@base\\.example`));
    const c = await RawSmtp.connect(port + 1); // bravo answers too
    await c.quit();
    await run('swaks', ['--server', `127.0.0.1:${port}`, '--from', 'you@field.example', '--to', 'ops@base.example', '--header', 'Subject: demo over the radio'], { timeout: 20_000 });
    const box = path.join(dir, 'bravo', 'maildir', 'new');
    let file: string | undefined;
    for (let i = 0; i < 600 && !file; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        file = readdirSync(box).map((f) => readFileSync(path.join(box, f), 'utf8')).find((t) => t.includes('Subject: demo over the radio'));
      } catch {
        // not there yet
      }
    }
    assert.ok(file, `nothing arrived in ${box}; console:\n${console.slice(-2000)}`);
    assert.match(file, /^Return-Path: <you@field\.example>\r\nReceived: from alpha by bravo\.base\.example via hfmail-radio/);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
