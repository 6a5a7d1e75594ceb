// A real Postfix as the next hop (it lacks MT-PRIORITY, DELIVERBY and ALTRECIP), set up once for this file
// (the system has one Postfix; two test files reconfiguring it at once would trample each other):
// - one gateway relaying to it: tunnelled MT-Priority:, R mode refused with a failed DSN, N mode relayed;
// - the whole path: SMTP in at alpha -> a simulated HF radio with error bursts and a fade -> bravo -> Postfix
//   and a Maildir, with an ARCPT redirect at bravo and the DSN back in alpha's Maildir over the radio.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../src/core/index.ts';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { freePort } from './support/gateway-process.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

const run = promisify(execFile);
let dir: string;
let sink: string;
let pfPort: number;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-postfix-'));
  chmodSync(dir, 0o755); // Postfix's delivery agent runs as nobody and must reach its Maildir below
  const pfBase = path.join(dir, 'postfix');
  pfPort = await freePort();
  const script = fileURLToPath(new URL('./support/postfix-up.sh', import.meta.url));
  // Postfix starts as root; elsewhere through sudo (CI installs it with apt-get the same way).
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'bash' : 'sudo', asRoot ? [script, String(pfPort), pfBase] : ['bash', script, String(pfPort), pfBase], { timeout: 60_000 });
  sink = path.join(pfBase, 'mail', 'sink');
});
after(() => {
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

describe('one gateway relaying to Postfix', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      hostname: 'bravo.base.example',
      routes: [
        { domains: ['field.example'], via: 'maildir:./mail' },
        { domains: ['example.net'], via: `smtp://127.0.0.1:${pfPort}` },
      ],
    });
  });
  after(() => gw?.stop());
  const sinkDir = () => sink;

  async function send(mail: string, rcpt: string, subject: string): Promise<void> {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo('check.example.com');
    assert.match(await c.cmd(`MAIL FROM:<eljefe@field.example> ${mail}`), /^250 /);
    assert.match(await c.cmd(`RCPT TO:${rcpt}`), /^250 /);
    assert.match(await c.data(`From: eljefe@field.example\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@check>\r\n\r\nbody\r\n`), /^250 /);
    await c.quit();
  }

  async function findIn(dir: string, needle: string, ms = 30_000): Promise<string | undefined> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      for (const sub of ['new', 'cur']) {
        let files: string[] = [];
        try {
          files = readdirSync(path.join(dir, sub));
        } catch {
          // not created yet
        }
        for (const f of files) {
          const text = readFileSync(path.join(dir, sub, f), 'utf8');
          if (text.includes(needle)) return text;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  }

  test('Postfix: MT-PRIORITY=5 arrives as one MT-Priority: 5 header; our Received line has PRIORITY 5', async () => {
    await send('MT-PRIORITY=5', '<pf1@example.net>', 'pfprio');
    const file = await findIn(sinkDir(), 'pfprio@check');
    assert.ok(file, 'not delivered by Postfix');
    const head = file.split('\n\n')[0]!;
    assert.equal(head.match(/^MT-Priority:/gim)?.length, 1);
    assert.match(head, /^MT-Priority: 5\r?$/m);
    assert.match(head, /PRIORITY 5;/);
  });

  test('Postfix: BY=R is not relayed and a failed DSN (5.3.3) comes back; BY=N is relayed with a relayed DSN', async () => {
    await send('BY=600;R', '<pf2@example.net> NOTIFY=FAILURE', 'pfrmode');
    await send('BY=600;N', '<pf3@example.net> NOTIFY=SUCCESS,FAILURE', 'pfnmode');
    const local = path.join(gw.dir, 'mail');
    const failed = await findIn(local, 'pfrmode@check');
    assert.ok(failed && /Action: failed/.test(failed) && /Status: 5\.3\.3/.test(failed), 'no failed DSN for the R-mode message');
    assert.equal(await findIn(sinkDir(), 'pfrmode@check', 1000), undefined, 'R-mode message relayed to a hop without DELIVERBY');
    assert.ok(await findIn(sinkDir(), 'pfnmode@check'), 'N-mode message not relayed');
    const relayed = await findIn(local, 'pfnmode@check');
    assert.ok(relayed && /Action: relayed/.test(relayed), 'no relayed DSN for the N-mode message');
  });

});

describe('two stations over the radio, then Postfix', () => {
  let alpha: Gateway;
  let bravo: Gateway;
  before(async () => {
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
  });

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

});
