// Two gateways joined by a simulated half-duplex radio in real time: SMTP in at alpha, across the link with
// custody, out of bravo's relay into its Maildir; a failure at bravo comes back to alpha as a DSN over the link.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../src/core/index.ts';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { RawSmtp } from './support/smtp-client.ts';

let dir: string;
let alpha: Gateway;
let bravo: Gateway;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-two-'));
  writeFileSync(path.join(dir, 'alpha-bravo.key'), 'a pre-shared key for alpha and bravo');
  const radio = createChannel({ bitRate: 9600, duplex: 'half', turnaroundMs: 100, propagationMs: 5, ber: 1e-5 }, systemClock, new SeededRandom(9));
  const log = pino({ level: process.env.HFMAIL_TEST_LOG ?? 'silent' });
  const station = (name: string, peer: string, local: string, remote: string) =>
    validateConfig({
      station: name,
      hostname: `${name}.${local}`,
      listen: '127.0.0.1:0',
      data: `./${name}/data`,
      routes: [
        { domains: [local], via: `maildir:./${name}/maildir` },
        // only bravo has a (dead) way to dead.example; alpha sends it over the radio
        ...(name === 'bravo' ? [{ domains: ['dead.example'], via: 'smtp://127.0.0.1:1' }] : []),
        { domains: [remote, '*'], via: `link:${peer}` },
      ],
      links: [{ peer, port: 'simulated', profile: 'cable-full-duplex', key: './alpha-bravo.key' }],
      relay: { retryBaseS: 1, giveUpS: 2 },
    });
  alpha = new Gateway({ config: station('alpha', 'bravo', 'field.example', 'base.example'), log: log.child({ station: 'alpha' }), baseDir: dir, linkPorts: { bravo: radio.a } });
  bravo = new Gateway({ config: station('bravo', 'alpha', 'base.example', 'field.example'), log: log.child({ station: 'bravo' }), baseDir: dir, linkPorts: { alpha: radio.b } });
  await alpha.start();
  await bravo.start();
});
after(async () => {
  await alpha.stop();
  await bravo.stop();
  rmSync(dir, { recursive: true, force: true });
});

const maildir = (name: string) => {
  const d = path.join(dir, name, 'maildir', 'new');
  try {
    return readdirSync(d).map((f) => readFileSync(path.join(d, f), 'utf8'));
  } catch {
    return [];
  }
};

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function send(from: string, mail: string, rcpt: string, subject: string): Promise<string> {
  const c = await RawSmtp.connect(alpha.address!.port);
  await c.ehlo('laptop.field.example');
  assert.match(await c.cmd(`MAIL FROM:<${from}> ${mail}`), /^250 /);
  assert.match(await c.cmd(`RCPT TO:${rcpt}`), /^250 /);
  const r = await c.data(`From: ${from}\r\nTo: x\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@laptop>\r\n\r\nbody of ${subject}\r\n`);
  await c.quit();
  return /queued as (\S+)/.exec(r)![1]!;
}

test('mail crosses the radio with its priority and deadline, and arrives byte for byte', async () => {
  const id = await send('team@field.example', 'MT-PRIORITY=4 BY=3600;N ENVID=E1', '<ops@base.example> NOTIFY=NEVER', 'across');
  const file = await waitFor('delivery at bravo', () => maildir('bravo').find((f) => f.includes('Subject: across')));
  // the Return-Path of final delivery, bravo's Received line on top of alpha's, then the original, unchanged
  assert.match(file, /^Return-Path: <team@field\.example>\r\nReceived: from alpha by bravo\.base\.example via hfmail-radio with HFMAIL id \S+\r\n\s+PRIORITY 4; /);
  assert.match(file, /\r\nReceived: from laptop\.field\.example \(\[127\.0\.0\.1\]\)\r?\n?\s*by alpha\.field\.example/);
  assert.ok(file.endsWith('Subject: across\r\nMessage-ID: <across@laptop>\r\n\r\nbody of across\r\n'));
  const there = bravo.store.get(id)!;
  assert.deepEqual(there.priority, { value: 4, source: 'mt-priority', requested: 4 });
  assert.equal(there.params.envid, 'E1');
  assert.ok(Math.abs(there.params.by!.at - alpha.store.get(id)!.params.by!.at) < 2000, 'the deadline survives the hop');
  await waitFor('custody at alpha', () => alpha.store.get(id)!.recipients[0]!.state === 'delivered' || undefined);
});

test('a failure at the far side comes back over the radio as a DSN', async () => {
  await send('team@field.example', '', '<nobody@dead.example> NOTIFY=FAILURE', 'doomed');
  const dsn = await waitFor('the DSN at alpha', () => maildir('alpha').find((f) => f.includes('doomed@laptop') && f.includes('multipart/report')), 45_000);
  assert.ok(dsn.startsWith('Return-Path: <>\r\n'), 'a DSN has the null reverse-path');
  assert.match(dsn, /Action: failed/);
  assert.match(dsn, /Final-Recipient: rfc822;nobody@dead\.example/);
  assert.match(dsn, /Reporting-MTA: dns; bravo\.base\.example/);
});

test('hfmail status: the link is up, with its measurements; the queue by priority', async () => {
  const { statusReport } = await import('../src/gateway/index.ts');
  await new Promise((r) => setTimeout(r, 2200)); // the status file is rewritten every 2 s
  const r = statusReport({ config: validateConfig({ station: 'alpha', data: './alpha/data' }), baseDir: dir });
  assert.equal(r.running, true);
  assert.equal(r.pid, process.pid);
  const link = r.links[0] as { peer: string; up: boolean; frameSize: number; lastHelloAt: number };
  assert.equal(link.peer, 'bravo');
  assert.equal(link.up, true);
  assert.ok(link.frameSize > 0 && link.lastHelloAt > 0);
  assert.equal(typeof r.queue.total, 'number');
});
