// A real Postfix as the next hop (it lacks MT-PRIORITY, DELIVERBY and ALTRECIP): a private instance of its own
// (test/support/private-postfix.ts: own config, queue and port, stopped at the end; the system's Postfix is
// left alone), started once for this file:
// - one gateway relaying to it: tunnelled MT-Priority:, R mode refused with a failed DSN, N mode relayed;
// - the whole path in virtual time: SMTP in at alpha -> a simulated 2400 bit/s HF radio with error bursts and a
//   minute-long fade -> bravo -> Postfix, a DELIVERBY hop
//   and a Maildir, with an ARCPT redirect at bravo and the DSN back in alpha's Maildir over the radio.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { postfixMissing, startPrivatePostfix, type PrivatePostfix } from './support/private-postfix.ts';
import { scriptedPeer, type ScriptedPeer } from './support/scripted-peer.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { VirtualTimeDriver } from './support/virtual-time.ts';

// Skipped, saying why, only where Postfix is not installed (.ci/run installs it).
const skip = postfixMissing();
let dir: string;
let postfix: PrivatePostfix | undefined;
let sink: string;
let pfPort: number;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-pftest-'));
  if (skip) return;
  // Refuses reject@example.net at RCPT, so that bravo redirects that recipient to its ARCPT alternate.
  postfix = await startPrivatePostfix({ rejectAddress: 'reject@example.net' });
  pfPort = postfix.port;
  sink = postfix.mailDir;
});
after(async () => {
  await postfix?.stop();
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

describe('one gateway relaying to Postfix', { skip }, () => {
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

describe('two stations over the radio, then Postfix, in virtual time', { skip }, () => {
  // The radio and both gateways' timers run on one virtual clock (a minute-long fade costs no real time); SMTP
  // to Postfix and the scripted DELIVERBY hop is real I/O, during which the clock stands still.
  const clock = new VirtualClock();
  const radio = createChannel(
    {
      bitRate: 2400,
      duplex: 'half',
      turnaroundMs: 1500,
      ber: { good: 2e-5, bad: 2e-3, meanGoodBits: 200_000, meanBadBits: 8000 },
      outages: [{ atMs: 20_000, durationMs: 60_000 }],
    },
    clock,
    new SeededRandom(11),
  );
  let alpha: Gateway;
  let bravo: Gateway;
  let byHop: ScriptedPeer;
  let drive: VirtualTimeDriver;
  before(async () => {
    writeFileSync(path.join(dir, 'k.key'), 'alpha and bravo share this key');
    byHop = await scriptedPeer(['PIPELINING', 'DELIVERBY', 'DSN', 'ENHANCEDSTATUSCODES']);
    const log = pino({ level: process.env.HFMAIL_TEST_LOG ?? 'silent' });
    const cfg = (name: string, peer: string, routes: { domains: string[]; via: string }[]) =>
      validateConfig({ station: name, hostname: `${name}.example`, listen: '127.0.0.1:0', data: `./${name}/data`, routes, links: [{ peer, port: 'radio', profile: 'stanag4539-2400', key: './k.key' }] });
    const common = { log, baseDir: dir, clock };
    alpha = new Gateway({ ...common, random: new SeededRandom(1), config: cfg('alpha', 'bravo', [{ domains: ['field.example'], via: 'maildir:./alpha/maildir' }, { domains: ['*'], via: 'link:bravo' }]), linkPorts: { bravo: radio.a } });
    bravo = new Gateway({
      ...common,
      random: new SeededRandom(2),
      config: cfg('bravo', 'alpha', [
        { domains: ['base.example'], via: 'maildir:./bravo/maildir' },
        { domains: ['example.net'], via: `smtp://127.0.0.1:${pfPort}` },
        { domains: ['deliverby.example'], via: `smtp://127.0.0.1:${byHop.port}` },
        { domains: ['*'], via: 'link:alpha' },
      ]),
      linkPorts: { alpha: radio.b },
    });
    await alpha.start();
    await bravo.start();
    drive = new VirtualTimeDriver(clock, () => alpha.relay.busy || bravo.relay.busy);
    await drive.until('the link coming up', () => alpha.links.get('bravo')!.snapshot().up && bravo.links.get('alpha')!.snapshot().up, { virtualMs: 60_000, realMs: 20_000 });
  });
  after(async () => {
    await alpha?.stop();
    await bravo?.stop();
    await byHop?.close();
  });

  test('through bursts and a fade to Postfix: byte-identical, MT-Priority, BY less the transit, redirect, DSN back', async () => {
    // A report with a photo that hardly compresses: about 100 s on the air at 2400 bit/s, so the fade hits it.
    const rnd = new SeededRandom(5);
    const photo = Buffer.from(Array.from({ length: 18_000 }, () => rnd.int(256))).toString('base64').replace(/.{76}/g, '$&\r\n');
    const content =
      'From: team@field.example\r\nTo: ops@example.net\r\nDate: Fri, 15 Jan 2027 08:00:00 +0000\r\nSubject: e2e\r\nMessage-ID: <e2e@laptop>\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n' +
      Array.from({ length: 40 }, (_, i) => `line ${i} of the situation report`).join('\r\n') +
      '\r\n--b1\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n' + photo + '\r\n--b1--\r\n';
    const c = await RawSmtp.connect(alpha.address!.port);
    await c.ehlo('laptop.field.example');
    assert.match(await c.cmd('MAIL FROM:<team@field.example> MT-PRIORITY=4 BY=3600;N'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@example.net>'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<reject@example.net> NOTIFY=SUCCESS,FAILURE ARCPT=rfc822;alt@example.net'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<chief@base.example>'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<duty@deliverby.example>'), /^250 /);
    const id = /queued as (\S+)/.exec(await c.data(content))![1]!;
    await c.quit();
    const submittedAt = clock.now();
    const deadline = alpha.store.get(id)!.params.by!.at;

    await drive.until('arrival at bravo', () => bravo.store.get(id) !== undefined, { virtualMs: 3_600_000, realMs: 60_000 });
    const transitS = (clock.now() - submittedAt) / 1000;
    const dsnIn = () => files(path.join(dir, 'alpha', 'maildir')).find((f) => f.includes('e2e@laptop') && f.includes('X-Redirected-To'));
    await drive.until(
      'delivery at bravo and the DSN back at alpha',
      () => bravo.store.delivery.nextDueAt() === undefined && alpha.store.delivery.nextDueAt() === undefined && dsnIn() !== undefined,
      {
        virtualMs: 3_600_000,
        realMs: 60_000,
        explain: () => JSON.stringify({ alpha: alpha.links.get('bravo')!.snapshot(), bravo: bravo.links.get('alpha')!.snapshot(), at: bravo.store.get(id)?.recipients.map((r) => [r.address, r.state]), radio: radio.stats, due: [alpha.store.delivery.nextDueAt(), bravo.store.delivery.nextDueAt()], busy: [alpha.relay.busy, bravo.relay.busy], next: clock.nextAt()! - clock.now() }),
      },
    );
    const there = bravo.store.get(id)!;
    // The radio really was bad: bits flipped, a fade swallowed bytes, and the transfer outlasted the fade.
    assert.ok(radio.stats.aToB.bitErrors > 0 && radio.stats.aToB.bytesLostToOutage > 0, JSON.stringify(radio.stats));
    assert.ok(transitS > 60, `transit ${transitS} s: the fade did not delay the transfer`);

    // BY at bravo is what was left after the hop (rounded down), and so is BY at the next hop that has DELIVERBY.
    // Never later; earlier by at most rounding and the profile's modem latency (5 s for the long interleaver).
    assert.ok(there.params.by!.at <= deadline && there.params.by!.at > deadline - 1000 - 5000, `deadline moved: ${there.params.by!.at - deadline} ms`);
    const byLine = byHop.lines.find((l) => /^MAIL FROM/i.test(l))!;
    const by = Number(/ BY=(\d+);N/i.exec(byLine)?.[1]);
    const elapsedS = (clock.now() - submittedAt) / 1000;
    assert.ok(by <= 3600 - transitS && by >= 3600 - elapsedS - 1, `BY=${by} after ${transitS.toFixed(1)} s of transit (${byLine})`);
    console.log(`# e2e in virtual time: transit ${transitS.toFixed(1)} s (fade 60 s, ${radio.stats.aToB.bitErrors} bit errors), BY=${by} at the next hop, deadline moved ${there.params.by!.at - deadline} ms`);

    // bravo's Maildir: the submitted bytes exactly, below the Return-Path of final delivery and the Received
    // lines the two stations added.
    const atBravo = files(path.join(dir, 'bravo', 'maildir')).find((f) => f.includes('<e2e@laptop>'))!;
    assert.ok(atBravo.startsWith('Return-Path: <team@field.example>\r\nReceived: '), atBravo.slice(0, 200));
    assert.equal(withoutTrace(atBravo, ['Return-Path', 'Received']), content);
    assert.equal(atBravo.match(/^Return-Path: /gm)?.length, 1);
    assert.equal(atBravo.match(/^Received: /gm)?.length, 2);

    const atPostfix = await waitFor('delivery by Postfix', () => files(sink).find((f) => f.includes('<e2e@laptop>') && !f.includes('Alternate-Recipient-Of')));
    const head = atPostfix.split('\n\n')[0]!;
    assert.match(head, /^MT-Priority: 4\r?$/m);
    assert.equal(withoutTrace(atPostfix.replace(/\r?\n/g, '\r\n'), ['Received', 'Return-Path', 'X-Original-To', 'Delivered-To', 'MT-Priority']), content);

    const redirected = await waitFor('the redirected copy at Postfix', () => files(sink).find((f) => f.includes('<e2e@laptop>') && f.includes('Alternate-Recipient-Of: <reject@example.net>')));
    assert.match(redirected, /reason="5\.\d\.\d /);
    const dsn = dsnIn()!;
    assert.match(dsn, /Action: relayed/);
    assert.match(dsn, /X-Redirected-To: rfc822;alt@example\.net/);
  });
});

/** The message below the trace header fields that hops put on top (`names`), unchanged otherwise. */
function withoutTrace(message: string, names: string[]): string {
  const trace = new RegExp(`^(?:${names.join('|')}):[^\\r\\n]*\\r\\n(?:[ \\t][^\\r\\n]*\\r\\n)*`, 'i');
  let rest = message;
  for (let m = trace.exec(rest); m; m = trace.exec(rest)) rest = rest.slice(m[0].length);
  return rest;
}
