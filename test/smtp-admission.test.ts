// Deadline-aware admission: at RCPT, a recipient routed over the radio whose R-mode BY (or ABY, on its alternate's
// route) cannot be met with what is queued ahead at its priority is refused 455 4.4.7; a feasible one, an N-mode
// one and one of a higher priority than the traffic ahead are accepted. Two gateways over a slow simulated radio.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../src/core/index.ts';
import { Gateway, queueSnapshot, validateConfig } from '../src/gateway/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { RawSmtp } from './support/smtp-client.ts';

let dir: string;
let alpha: Gateway;
let bravo: Gateway;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-admission-'));
  writeFileSync(path.join(dir, 'k'), 'a pre-shared key for alpha and bravo');
  // 2400 bit/s half duplex: a hello crosses in a second or so, 60 KB of incompressible mail takes minutes.
  const radio = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 200, propagationMs: 5, ber: 0 }, systemClock, new SeededRandom(3));
  const log = pino({ level: process.env.HFMAIL_TEST_LOG ?? 'silent' });
  const station = (name: string, peer: string, local: string) =>
    validateConfig({
      station: name,
      listen: '127.0.0.1:0',
      data: `./${name}/data`,
      routes: [
        { domains: [local], via: `maildir:./${name}/maildir` },
        { domains: ['*'], via: `link:${peer}` },
      ],
      links: [{ peer, port: 'simulated', profile: 'stanag4539-2400', key: './k' }],
    });
  alpha = new Gateway({ config: station('alpha', 'bravo', 'field.example'), log, baseDir: dir, linkPorts: { bravo: radio.a } });
  bravo = new Gateway({ config: station('bravo', 'alpha', 'base.example'), log, baseDir: dir, linkPorts: { alpha: radio.b } });
  await alpha.start();
  await bravo.start();
  // The link must be up for an estimate: wait for alpha's status file to say so.
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      const st = JSON.parse(readFileSync(path.join(dir, 'alpha', 'data', 'status.json'), 'utf8')) as { links: { up: boolean }[] };
      if (st.links[0]?.up) break;
    } catch {
      // not written yet
    }
    if (Date.now() > end) throw new Error('the link did not come up');
    await new Promise((r) => setTimeout(r, 100));
  }
  // 60 KB of random bytes in base64 (nothing to compress) at priority 0, ahead of anything of priority 0 or below.
  const c = await RawSmtp.connect(alpha.address!.port);
  await c.ehlo('laptop.field.example');
  assert.match(await c.cmd('MAIL FROM:<op@field.example> MT-PRIORITY=0'), /^250 /);
  assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
  const body = (randomBytes(60_000).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  assert.match(await c.data(`Subject: big\r\n\r\n${body}\r\n`), /^250 /);
  await c.quit();
});

after(async () => {
  await alpha.stop();
  await bravo.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function rcpt(mail: string, to: string): Promise<string> {
  const c = await RawSmtp.connect(alpha.address!.port);
  try {
    await c.ehlo('laptop.field.example');
    assert.match(await c.cmd(`MAIL FROM:<op@field.example> ${mail}`), /^250 /);
    return await c.cmd(`RCPT TO:${to}`);
  } finally {
    await c.quit();
  }
}

test('an R-mode BY that the traffic ahead on the radio makes impossible is refused at RCPT with 455 4.4.7 and why', async () => {
  const reply = await rcpt('MT-PRIORITY=-4 BY=90;R', '<ops@base.example>');
  assert.match(reply, /^455 4\.4\.7 <ops@base\.example> cannot be delivered within BY: about \d+ s on the radio link to bravo .* \d+ s allowed/);
  const [seconds, allowed] = [Number(/about (\d+) s/.exec(reply)![1]), Number(/(\d+) s allowed/.exec(reply)![1])];
  assert.ok(seconds > allowed && allowed <= 90, `estimate ${seconds} s, allowed ${allowed} s`);
});

test('a feasible BY, a higher priority than the traffic ahead, and an N-mode BY are accepted', async () => {
  assert.match(await rcpt('MT-PRIORITY=-4 BY=86400;R', '<ops@base.example>'), /^250 /);
  assert.match(await rcpt('MT-PRIORITY=9 BY=600;R', '<ops@base.example>'), /^250 /, 'priority 9 goes before the 60 KB at priority 0');
  assert.match(await rcpt('MT-PRIORITY=-4 BY=90;N', '<ops@base.example>'), /^250 /, 'N mode: delivered late rather than refused');
});

test('a local recipient is never refused for the radio, and an R-mode ABY is checked on the alternate\'s route', async () => {
  assert.match(await rcpt('MT-PRIORITY=-4 BY=90;R', '<me@field.example>'), /^250 /);
  const aby = await rcpt('MT-PRIORITY=-4 ABY=90;R', '<me@field.example> ARCPT=rfc822;ops@base.example');
  assert.match(aby, /^455 4\.4\.7 <ops@base\.example> cannot be delivered within ABY/);
  assert.match(await rcpt('MT-PRIORITY=-4 ABY=90;R', '<ops@base.example> ARCPT=rfc822;me@field.example'), /^250 /, 'a local alternate is reachable at once');
});

test('hfmail queue shows the same estimate per queued message, growing with what goes before it', async () => {
  const settings = { config: validateConfig({ data: './alpha/data' }), baseDir: dir };
  const c = await RawSmtp.connect(alpha.address!.port);
  await c.ehlo('laptop.field.example');
  for (const p of [-2, -3]) {
    assert.match(await c.cmd(`MAIL FROM:<op@field.example> MT-PRIORITY=${p}`), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
    assert.match(await c.data(`Subject: small ${p}\r\n\r\nhello\r\n`), /^250 /);
  }
  await c.quit();
  // The estimate reads the running gateway's status file, rewritten every 2 s: wait for one written since.
  const queued = () => queueSnapshot(settings).filter((e) => e.recipients.some((r) => r.state === 'queued'));
  let entries = queued();
  for (const end = Date.now() + 10_000; entries.length < 3 || entries.some((e) => !e.eta); entries = queued()) {
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(entries.length >= 3, `${entries.length} queued`);
  const etas = entries.map((e) => e.eta);
  assert.ok(etas.every((e) => e?.peer === 'bravo' && e.seconds > 0), JSON.stringify(etas));
  for (let i = 1; i < etas.length; i++) assert.ok(etas[i]!.seconds >= etas[i - 1]!.seconds, `not in order: ${JSON.stringify(etas)}`);
});
