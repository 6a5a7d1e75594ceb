// What the DSNs the relay queues say: UTF-8 DSNs (RFC 6533) for UTF-8 senders and addresses, "relayed" worded
// by whether the next hop was given NOTIFY (RFC 3461 5.2.2), the redirect naming the alternate, and the
// sender's own Deliver-By-Date after the radio hop re-anchored BY.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { Clock, QueuedMessage, Route } from '../src/core/index.ts';
import { buildDsn, rfc5322Date } from '../src/mail/index.ts';
import { MessageStore } from '../src/queue/index.ts';
import { RelayRunner } from '../src/relay/index.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';
import { scriptedPeer, type ScriptedPeer } from './support/scripted-peer.ts';

let dir: string;
let store: MessageStore;
let withDsn: ScriptedPeer; // DSN, no DELIVERBY, no ALTRECIP, no SMTPUTF8
let noDsn: ScriptedPeer; // nothing at all
let alternate: ScriptedPeer;
const t0 = 1_800_000_000_000;
const clock = { t: t0, now() { return this.t; }, setTimer: () => ({ cancel() {} }) } satisfies Clock & { t: number };
let seq = 0;
/** Ids the runner handed out: DSNs and redirected copies. */
const issued: string[] = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-dsn-content-'));
  store = MessageStore.open(dir);
  withDsn = await scriptedPeer(['DSN', '8BITMIME']);
  noDsn = await scriptedPeer([]);
  alternate = await scriptedPeer(['DSN', 'ALTRECIP']);
});
after(async () => {
  store.close();
  await withDsn.close();
  await noDsn.close();
  await alternate.close();
  rmSync(dir, { recursive: true, force: true });
});

const smtp = (p: ScriptedPeer): Route => ({ kind: 'smtp', target: `127.0.0.1:${p.port}` });
// DSNs to senders go to the radio link: they stay in the queue for the test to read.
const senderRoute: Route = { kind: 'link', target: 'alpha' };

function runner(): RelayRunner {
  return new RelayRunner(
    store.deliveryView(),
    {
      hostname: 'bravo.base.example',
      retry: { baseMs: 60_000, maxMs: 3_600_000, giveUpMs: 5 * 86_400_000, altRecipWindowMs: 30 * 60_000 },
      connectTimeoutMs: 2000,
      commandTimeoutMs: 2000,
      starttls: 'off',
      dns: { servers: ['127.0.0.1:1'], timeoutMs: 500 },
      route: (a) => (a.endsWith('@loc2.example.org') ? smtp(alternate) : senderRoute),
      newId: () => {
        const id = `01DSNC${String(seq++).padStart(14, '0')}`;
        issued.push(id);
        return id;
      },
    },
    clock,
    pino({ level: process.env.DEBUG_DSN ? 'debug' : 'silent' }),
  );
}

/** Runs the relay over one message; returns the DSNs it queued (null sender), in order. */
async function dsnsFor(msg: QueuedMessage): Promise<QueuedMessage[]> {
  const from = issued.length;
  store.insert(msg);
  await runner().run();
  return issued.slice(from).map((id) => store.get(id)).filter((m): m is QueuedMessage => m !== undefined && m.sender === '');
}

const text = (m: QueuedMessage) => Buffer.from(m.content).toString('utf8');

test('a DSN to a UTF-8 sender is a UTF-8 DSN (RFC 6533): SMTPUTF8, global-delivery-status, global-headers', async () => {
  clock.t += 86_400_000;
  // The hop (smtp-server, which offers SMTPUTF8) refuses the mailbox; the UTF-8 sender hears of it.
  const msg = buildMessage({
    receivedAt: clock.now(),
    sender: 'jörg@bücher.example',
    params: { smtputf8: true, body: '8BITMIME' },
    recipients: [buildRecipient({ address: 'reject-ops@example.net', notify: ['FAILURE'], route: smtp(withDsn) })],
    content: Buffer.from('Received: from a by alpha; Mon, 1 Jan 2026 00:00:00 +0000\r\nFrom: jörg@bücher.example\r\nSubject: Grüße\r\n\r\nbody\r\n', 'utf8'),
  });
  const [dsn, more] = await dsnsFor(msg);
  assert.ok(dsn && !more, 'one DSN');
  assert.equal(dsn.params.smtputf8, true, 'a DSN to a UTF-8 address needs SMTPUTF8');
  assert.equal(dsn.params.body, '8BITMIME', 'the returned UTF-8 header is 8-bit');
  assert.equal(dsn.recipients[0]!.address, 'jörg@bücher.example');
  const t = text(dsn);
  assert.match(t, /\r\nTo: <jörg@bücher\.example>\r\n/);
  assert.match(t, /Content-Type: multipart\/report; report-type=global-delivery-status;/);
  assert.match(t, /\r\nContent-Type: message\/global-delivery-status\r\n/);
  assert.doesNotMatch(t, /message\/delivery-status/);
  assert.match(t, /\r\nContent-Type: message\/global-headers\r\n/, 'UTF-8 headers come back as message/global-headers');
  assert.doesNotMatch(t, /text\/rfc822-headers/);
  assert.match(t, /Subject: Grüße\r\n/);
  assert.match(t, /\r\nFinal-Recipient: rfc822;reject-ops@example\.net\r\n/, 'an ASCII address keeps its type');
  assert.match(t, /\r\nStatus: 5\.1\.1\r\n/);
});

test('a UTF-8 address in the report makes a UTF-8 DSN even for an ASCII sender: utf-8; address types, ORCPT up-converted', async () => {
  clock.t += 86_400_000;
  const msg = buildMessage({
    receivedAt: clock.now(),
    sender: 'eljefe@example.com',
    params: { smtputf8: true },
    recipients: [
      buildRecipient({ address: 'rejectmüller@example.net', notify: ['FAILURE'], orcpt: { type: 'utf-8', address: 'M\\x{FC}ller@example.net' }, route: smtp(alternate) }),
    ],
    content: Buffer.from('Received: from a by alpha; Mon, 1 Jan 2026 00:00:00 +0000\r\nSubject: plain\r\n\r\nbody\r\n'),
  });
  // The hop takes SMTPUTF8 and refuses the mailbox.
  const dsns = await dsnsFor(msg);
  assert.equal(dsns.length, 1);
  const dsn = dsns[0]!;
  assert.equal(dsn.params.smtputf8, true);
  const t = text(dsn);
  assert.match(t, /\r\nContent-Type: message\/global-delivery-status\r\n/);
  assert.match(t, /\r\nFinal-Recipient: utf-8;rejectmüller@example\.net\r\n/);
  assert.match(t, /\r\nOriginal-Recipient: utf-8;Müller@example\.net\r\n/, 'the unitext ORCPT is up-converted (RFC 6533 4.1)');
  assert.match(t, /\r\nContent-Type: text\/rfc822-headers\r\n/, 'ASCII headers come back as they always did');
});

test('an ASCII report stays a plain RFC 3464 DSN without SMTPUTF8', async () => {
  clock.t += 86_400_000;
  const msg = buildMessage({
    receivedAt: clock.now(),
    sender: 'eljefe@example.com',
    recipients: [buildRecipient({ address: 'reject-plain@example.net', notify: ['FAILURE'], route: smtp(withDsn) })],
    content: Buffer.from('Received: from a by alpha; Mon, 1 Jan 2026 00:00:00 +0000\r\nSubject: plain\r\n\r\nbody\r\n'),
  });
  const [dsn] = await dsnsFor(msg);
  assert.ok(dsn);
  assert.equal(dsn.params.smtputf8, false);
  assert.equal(dsn.params.body, undefined);
  const t = text(dsn);
  assert.match(t, /report-type=delivery-status;/);
  assert.match(t, /\r\nContent-Type: message\/delivery-status\r\n/);
  assert.match(t, /\r\nFinal-Recipient: rfc822;reject-plain@example\.net\r\n/);
  assert.match(t, /\r\nContent-Type: text\/rfc822-headers\r\n/);
});

test('"relayed" to a hop that took NOTIFY says further notifications may come from there; to one without DSN, that none will', async () => {
  clock.t += 86_400_000;
  // N-mode BY to a hop without DELIVERBY (RFC 2852 4.1.4.2): relayed, NOTIFY passed on with DELAY.
  const viaDsn = buildMessage({
    receivedAt: clock.now(),
    sender: 'eljefe@example.com',
    params: { smtputf8: false, by: { at: clock.now() + 3_600_000, mode: 'N', trace: false, requestedSeconds: 3600 } },
    recipients: [buildRecipient({ address: 'ops@example.net', notify: ['FAILURE'], route: smtp(withDsn) })],
  });
  const [a] = await dsnsFor(viaDsn);
  assert.match(withDsn.lines.at(-1)!, /NOTIFY=FAILURE,DELAY/, 'the hop was given NOTIFY');
  assert.ok(a);
  const ta = text(a);
  assert.match(ta, /\r\nAction: relayed\r\n/);
  assert.doesNotMatch(ta, /without further notification/, 'the hop took NOTIFY: it may well notify');
  assert.match(ta, /further notifications may come from there/);

  // NOTIFY=SUCCESS to a hop without DSN (RFC 3461 5.2.2): relayed, and nobody will say more.
  const viaNoDsn = buildMessage({
    receivedAt: clock.now(),
    sender: 'eljefe@example.com',
    recipients: [buildRecipient({ address: 'ops@example.net', notify: ['SUCCESS'], route: smtp(noDsn) })],
  });
  const [b] = await dsnsFor(viaNoDsn);
  assert.equal(noDsn.lines.at(-1), 'RCPT TO:<ops@example.net>');
  assert.ok(b);
  const tb = text(b);
  assert.match(tb, /\r\nAction: relayed\r\n/);
  assert.match(tb, /Your message was relayed, without further notification, for <ops@example\.net>/);
});

test('the redirect DSN names the alternate: X-Redirected-To and a readable line', async () => {
  clock.t += 86_400_000;
  const msg = buildMessage({
    receivedAt: clock.now(),
    sender: 'eljefe@example.com',
    recipients: [buildRecipient({ address: 'reject-top@example.net', notify: null, arcpt: { type: 'rfc822', address: 'bottom-apple@loc2.example.org' }, route: smtp(withDsn) })],
  });
  const dsns = await dsnsFor(msg);
  const dsn = dsns.find((d) => text(d).includes('reject-top@example.net'));
  assert.ok(dsn, 'a DSN for the redirect');
  const t = text(dsn);
  assert.match(t, /\r\nAction: relayed\r\n/);
  assert.match(t, /\r\nX-Redirected-To: rfc822;bottom-apple@loc2\.example\.org\r\n/);
  const readable = t.slice(0, t.indexOf('message/delivery-status'));
  assert.match(readable, /<reject-top@example\.net>.*redirected to the alternate recipient <bottom-apple@loc2\.example\.org>/);
  assert.doesNotMatch(readable, /without further notification/);
});

test('Deliver-By-Date is the sender\'s deadline (arrival + BY), not the deadline re-anchored after the radio hop', async () => {
  clock.t += 86_400_000;
  const arrived = clock.now() - 40_000; // accepted at alpha 40 s ago
  // At the far station BY is anchored at the transfer's start less a latency allowance: 6 s early here.
  const msg = buildMessage({
    receivedAt: arrived,
    sender: 'eljefe@example.com',
    params: { smtputf8: false, by: { at: arrived + 3_600_000 - 6000, mode: 'N', trace: false, requestedSeconds: 3600 } },
    recipients: [buildRecipient({ address: 'reject-late@example.net', notify: ['FAILURE'], route: smtp(withDsn) })],
  });
  const [dsn] = await dsnsFor(msg);
  assert.ok(dsn);
  const t = text(dsn);
  assert.match(t, new RegExp(`\\r\\nArrival-Date: ${rfc5322Date(new Date(arrived)).replace(/[+]/g, '\\+')}\\r\\n`));
  assert.match(t, new RegExp(`\\r\\nDeliver-By-Date: ${rfc5322Date(new Date(arrived + 3_600_000)).replace(/[+]/g, '\\+')}\\r\\n`));
});

test('buildDsn: a whole UTF-8 original comes back as message/global; an xtext-looking utf-8 ORCPT that does not decode stays as given', () => {
  const raw = buildDsn({
    reportingMta: 'bravo.base.example',
    arrival: new Date(t0),
    recipients: [{ finalRecipient: 'ünter@example.net', originalRecipient: { type: 'utf-8', address: 'odd\\x{D800}@example.net' }, action: 'failed', status: '5.1.1' }],
    original: Buffer.from('Subject: Grüße\r\n\r\nKörper\r\n', 'utf8'),
    returnFull: true,
    to: 'eljefe@example.com',
    date: new Date(t0),
    messageId: 'dsn.1@bravo.base.example',
    boundary: 'b-1',
  }).toString('utf8');
  assert.match(raw, /\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
  assert.match(raw, /\r\nContent-Type: message\/global\r\nContent-Transfer-Encoding: 8bit\r\n\r\nSubject: Grüße\r\n\r\nKörper\r\n/);
  assert.match(raw, /\r\nFinal-Recipient: utf-8;ünter@example\.net\r\n/);
  assert.match(raw, /\r\nOriginal-Recipient: utf-8;odd\\x\{D800\}@example\.net\r\n/);
});
