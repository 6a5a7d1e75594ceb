// The far side end to end: SMTP in, then the relay delivers to a Maildir and to a next hop without
// MT-PRIORITY, DELIVERBY or ALTRECIP (smtp-sink), tunnels the priority, refuses R mode with a failed DSN, and
// redirects to the ARCPT alternate when the primary's host refuses connections.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { startSmtpSink } from './support/smtp-sink.ts';

let gw: TestGateway;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;

before(async () => {
  sink = await startSmtpSink();
  gw = await startGateway({
    hostname: 'bravo.base.example',
    routes: [
      { domains: ['field.example'], via: 'maildir:./mail' },
      { domains: ['example.net'], via: `smtp://127.0.0.1:${sink.port}` },
      { domains: ['dead.example'], via: 'smtp://127.0.0.1:1' },
    ],
  });
});
after(async () => {
  await gw.stop();
  sink.stop();
});

async function send(mail: string, rcpts: string[], subject: string): Promise<string> {
  const c = await RawSmtp.connect(gw.port);
  await c.ehlo('check.example.com');
  assert.match(await c.cmd(`MAIL FROM:<eljefe@field.example> ${mail}`), /^250 /);
  for (const r of rcpts) assert.match(await c.cmd(`RCPT TO:${r}`), /^250 /);
  const reply = await c.data(`From: eljefe@field.example\r\nTo: x@example.net\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@check>\r\n\r\nbody ${subject}\r\n`);
  await c.quit();
  return /queued as (\S+)/.exec(reply)![1]!;
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const maildir = () => {
  const dir = path.join(gw.dir, 'mail', 'new');
  try {
    return readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8'));
  } catch {
    return [];
  }
};

test('priority tunnelled to a hop without MT-PRIORITY, with the PRIORITY clause in our Received line', async () => {
  const id = await send('MT-PRIORITY=5', ['<sink1@example.net>'], 'prio5');
  const file = await waitFor('delivery at smtp-sink', () => sink.files().find((f) => f.includes('Subject: prio5')));
  assert.match(file, /^X-Mail-Args: <eljefe@field\.example>$/m); // smtp-sink advertises no SIZE, so none is sent
  assert.match(file, /^MT-Priority: 5\r?$/m);
  assert.match(file, /PRIORITY 5;/);
  const m = await waitFor('recipient state', () => (gw.gateway.store.get(id)!.recipients[0]!.state === 'delivered' ? gw.gateway.store.get(id) : undefined));
  assert.equal(m.recipients[0]!.status?.status, '2.0.0');
  assert.equal(m.recipients[0]!.status?.remoteMta, '127.0.0.1');
});

test('BY=R to a hop without DELIVERBY: not relayed; a failed DSN (5.3.3) comes back to the sender', async () => {
  const id = await send('BY=600;R ENVID=QQ314159', ['<sink2@example.net> NOTIFY=FAILURE ORCPT=rfc822;sink2@example.net'], 'rmode');
  const dsnText = await waitFor('a DSN in the Maildir', () => maildir().find((f) => f.includes('rmode@check')));
  assert.equal(sink.files().some((f) => f.includes('Subject: rmode')), false);
  const dsn = await simpleParser(dsnText);
  assert.match(String((dsn.headers.get('content-type') as { value: string }).value), /multipart\/report/);
  for (const field of ['Action: failed', 'Status: 5.3.3', 'Final-Recipient: rfc822;sink2@example.net', 'Original-Recipient: rfc822;sink2@example.net', 'Original-Envelope-Id: QQ314159', 'Deliver-By-Date: '])
    assert.ok(dsnText.includes(field), `DSN lacks ${field}`);
  assert.equal(gw.gateway.store.get(id)!.recipients[0]!.state, 'failed');
});

test('ALTRECIP: the primary host refuses connections, so the alternate gets the message with Alternate-Recipient-Of', async () => {
  const id = await send('', ['<primary@dead.example> ARCPT=rfc822;alt@example.net'], 'redirect');
  const file = await waitFor('the redirected copy', () => sink.files().find((f) => f.includes('Subject: redirect')));
  assert.match(file, /^X-Rcpt-Args: <alt@example\.net>/m);
  assert.match(file, /^Alternate-Recipient-Of: <primary@dead\.example>; reason="4\.4\.1 [^"]*ECONNREFUSED[^"]*"; /m);
  assert.ok(file.indexOf('Alternate-Recipient-Of:') < file.indexOf('by bravo.base.example'), 'trace header above our Received line');
  const primary = gw.gateway.store.get(id)!.recipients[0]!;
  assert.equal(primary.state, 'redirected');
  const dsnText = await waitFor('the relayed DSN', () => maildir().find((f) => f.includes('redirect@check') && f.includes('X-Redirected-To')));
  assert.match(dsnText, /Action: relayed/);
  assert.match(dsnText, /X-Redirected-To: rfc822;alt@example\.net/);
});

test('local Maildir delivery, byte for byte after the Return-Path (RFC 5321 4.4) and our Received line', async () => {
  const id = await send('', ['<ops@field.example>'], 'local');
  const file = await waitFor('the Maildir file', () => maildir().find((f) => f.includes('Subject: local')));
  assert.ok(file.startsWith('Return-Path: <eljefe@field.example>\r\nReceived: from check.example.com'), file.slice(0, 200));
  assert.equal(file.match(/^Return-Path:/gim)?.length, 1);
  assert.ok(file.endsWith('\r\nbody local\r\n'));
  assert.equal(gw.gateway.store.get(id)!.recipients[0]!.state, 'delivered');
});
