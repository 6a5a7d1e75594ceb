// The whole path: SMTP in at alpha -> a simulated HF radio with error bursts and a fade -> bravo -> a real
// Postfix next hop (no MT-PRIORITY, DELIVERBY or ALTRECIP) and a Maildir; an ARCPT redirect at bravo when
// Postfix refuses the primary, and the DSN back in alpha's Maildir over the radio.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../src/core/index.ts';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { freePort } from './support/gateway-process.ts';
import { RawSmtp } from './support/smtp-client.ts';

const run = promisify(execFile);
let dir: string;
let sink: string;
let alpha: Gateway;
let bravo: Gateway;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-e2e-'));
  chmodSync(dir, 0o755); // Postfix's delivery agent runs as nobody and must reach its Maildir below
  const pfBase = path.join(dir, 'postfix');
  const pfPort = await freePort();
  const script = fileURLToPath(new URL('./support/postfix-up.sh', import.meta.url));
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'bash' : 'sudo', asRoot ? [script, String(pfPort), pfBase] : ['bash', script, String(pfPort), pfBase], { timeout: 60_000 });
  sink = path.join(pfBase, 'mail', 'sink');
  writeFileSync(path.join(dir, 'k.key'), 'alpha and bravo share this key');
  const radio = createChannel(
    { bitRate: 9600, duplex: 'half', turnaroundMs: 150, ber: { good: 1e-5, bad: 2e-3, meanGoodBits: 100_000, meanBadBits: 4000 }, outages: [{ atMs: 4000, durationMs: 1500 }] },
    systemClock,
    new SeededRandom(11),
  );
  const log = pino({ level: process.env.HFMAIL_TEST_LOG ?? 'silent' });
  const cfg = (name: string, peer: string, routes: { domains: string[]; via: string }[]) =>
    validateConfig({ station: name, hostname: `${name}.example`, listen: '127.0.0.1:0', data: `./${name}/data`, routes, links: [{ peer, port: 'radio', profile: 'kiss-9600', key: './k.key' }] });
  alpha = new Gateway({ config: cfg('alpha', 'bravo', [{ domains: ['field.example'], via: 'maildir:./alpha/maildir' }, { domains: ['*'], via: 'link:bravo' }]), log, baseDir: dir, linkPorts: { bravo: radio.a } });
  bravo = new Gateway({
    config: cfg('bravo', 'alpha', [
      { domains: ['base.example'], via: 'maildir:./bravo/maildir' },
      { domains: ['example.net'], via: `smtp://127.0.0.1:${pfPort}` },
      { domains: ['*'], via: 'link:alpha' },
    ]),
    log,
    baseDir: dir,
    linkPorts: { alpha: radio.b },
  });
  await alpha.start();
  await bravo.start();
});
after(async () => {
  await alpha?.stop();
  await bravo?.stop();
  if (!process.env.HFMAIL_KEEP) rmSync(dir, { recursive: true, force: true });
});

function files(box: string): string[] {
  const out: string[] = [];
  for (const sub of ['new', 'cur'])
    try {
      for (const f of readdirSync(path.join(box, sub))) out.push(readFileSync(path.join(box, sub, f), 'utf8'));
    } catch {
      // not there yet
    }
  return out;
}

async function waitFor(what: string, probe: () => string | undefined, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('across the radio to Postfix: priority tunnelled, BY decremented, redirect on refusal, DSN back to the field', async () => {
  const c = await RawSmtp.connect(alpha.address!.port);
  await c.ehlo('laptop.field.example');
  const body = 'Subject: e2e\r\nMessage-ID: <e2e@laptop>\r\n\r\n' + Array.from({ length: 120 }, (_, i) => `line ${i} of the report`).join('\r\n') + '\r\n';
  assert.match(await c.cmd('MAIL FROM:<team@field.example> MT-PRIORITY=4 BY=3600;N'), /^250 /);
  assert.match(await c.cmd('RCPT TO:<ops@example.net>'), /^250 /);
  assert.match(await c.cmd('RCPT TO:<reject@example.net> NOTIFY=SUCCESS,FAILURE ARCPT=rfc822;alt@example.net'), /^250 /);
  const id = /queued as (\S+)/.exec(await c.data(body))![1]!;
  await c.quit();

  const delivered = await waitFor('delivery by Postfix', () => files(sink).find((f) => f.includes('Message-ID: <e2e@laptop>') && !f.includes('Alternate-Recipient-Of')));
  const head = delivered.split('\n\n')[0]!;
  assert.match(head, /^MT-Priority: 4\r?$/m);
  assert.ok(delivered.replace(/\r\n/g, '\n').endsWith(body.split('\r\n\r\n')[1]!.replace(/\r\n/g, '\n')), 'body not byte-identical');
  const there = bravo.store.get(id)!;
  assert.ok(there.params.by!.at <= alpha.store.get(id)!.params.by!.at + 1500, 'BY not decremented across the hop');

  const redirected = await waitFor('the redirected copy at Postfix', () => files(sink).find((f) => f.includes('Message-ID: <e2e@laptop>') && f.includes('Alternate-Recipient-Of: <reject@example.net>')));
  assert.match(redirected, /reason="5\.\d\.\d /);
  const dsn = await waitFor("the DSN back in alpha's Maildir", () => files(path.join(dir, 'alpha', 'maildir')).find((f) => f.includes('e2e@laptop') && f.includes('X-Redirected-To')));
  assert.match(dsn, /Action: relayed/);
  assert.match(dsn, /X-Redirected-To: rfc822;alt@example\.net/);
});
