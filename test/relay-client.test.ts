// The outbound SMTP client and the re-emission rules against real peers: Postfix's smtp-sink (records the
// exact MAIL and RCPT arguments) and an hfmail front end that advertises every extension; failure modes.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { planReemission, tunnelPriorityHeader, type ReemitInput } from '../src/mail/index.ts';
import { deliverToMaildir, dotStuff, hopCapabilities, SmtpClient, SmtpClientError } from '../src/relay/index.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/gateway-process.ts';
import { startSmtpSink } from './support/smtp-sink.ts';


const now = Date.now();
const content = Buffer.from('Received: from laptop ([10.0.0.2]) by alpha with ESMTP id X; Mon, 1 Jan 2026 00:00:00 +0000\r\nMT-Priority: 2\r\nFrom: eljefe@example.com\r\nSubject: relay\r\n\r\n.leading dot\r\nbody\r\n');
const input = (by: 'R' | 'N'): ReemitInput => ({
  sender: 'eljefe@example.com',
  params: { smtputf8: false, envid: 'QQ314159', ret: 'HDRS', by: { at: now + 300_000, mode: by, trace: false, requestedSeconds: 300 }, aby: { at: now + 60_000, mode: 'R', trace: false, requestedSeconds: 60 } },
  priority: { value: 5, source: 'mt-priority', requested: 5 },
  recipients: [
    { address: 'topbanana@example.net', notify: null, arcpt: { type: 'rfc822', address: 'bottom-apple@loc2.example.org' } },
    { address: 'Dana@Ivory.example.net', notify: ['SUCCESS', 'FAILURE'], orcpt: { type: 'rfc822', address: 'Dana+x@Ivory.example.net' } },
  ],
  contentSize: content.length,
  eightBit: false,
  now,
});

describe('against smtp-sink (no MT-PRIORITY, DELIVERBY or ALTRECIP)', () => {
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let port: number;
  before(async () => {
    sink = await startSmtpSink();
    port = sink.port;
  });
  after(() => sink.stop());

  test('only what the hop advertised is sent; priority tunnelled in one header; DSN parameters byte-identical', async () => {
    const c = await SmtpClient.open({ host: '127.0.0.1', port, helo: 'bravo.base.example' });
    const plan = planReemission(input('N'), hopCapabilities(c.capabilities));
    assert.ok(!plan.refuse);
    if (plan.refuse) return;
    const body = plan.tunnelPriority !== undefined ? tunnelPriorityHeader(content, plan.tunnelPriority) : content;
    const r = await c.send({ from: 'eljefe@example.com', mailParams: plan.mailParams, recipients: input('N').recipients.map((x, i) => ({ address: x.address, params: plan.rcptParams[i]! })) }, body);
    await c.quit();
    assert.deepEqual([r.mail.code, ...r.rcpt.map((x) => x.code), r.data?.code], [250, 250, 250, 250]);
    await new Promise((res) => setTimeout(res, 300));
    const file = sink.files()[0]!;
    assert.match(file, /^X-Mail-Args: <eljefe@example\.com> RET=HDRS ENVID=QQ314159$/m);
    assert.match(file, /^X-Rcpt-Args: <topbanana@example\.net> NOTIFY=FAILURE,DELAY$/m);
    assert.match(file, /^X-Rcpt-Args: <Dana@Ivory\.example\.net> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;Dana\+2Bx@Ivory\.example\.net$/m);
    assert.doesNotMatch(file, /MT-PRIORITY=|BY=|ARCPT=|ABY=/);
    assert.equal(file.match(/^MT-Priority:/gim)?.length, 1);
    assert.match(file, /^MT-Priority: 5\r?$/m);
    assert.match(file, /\n\.leading dot\r?\n/, 'dot-stuffing undone by the peer');
    assert.deepEqual(plan.relayedDsn, [0, 1], 'N mode across a hop without DELIVERBY owes "relayed" DSNs');
  });

  test('R mode is not relayed to it: the plan refuses with 5.3.3', async () => {
    const c = await SmtpClient.open({ host: '127.0.0.1', port, helo: 'bravo.base.example' });
    const plan = planReemission(input('R'), hopCapabilities(c.capabilities));
    await c.quit();
    assert.deepEqual(plan.refuse && [plan.status], ['5.3.3']);
  });
});

describe('against an hfmail front end that advertises everything', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ deliverBy: { min: 30 } });
  });
  after(() => gw.stop());

  test('MAIL and RCPT carry priority, BY remaining, ABY, DSN and ARCPT, and the peer queues exactly that', async () => {
    const c = await SmtpClient.open({ host: '127.0.0.1', port: gw.port, helo: 'bravo.base.example' });
    const caps = hopCapabilities(c.capabilities);
    assert.deepEqual([caps.mtPriority, caps.deliverBy, caps.altRecip, caps.dsn], [true, 30, true, true]);
    const plan = planReemission(input('R'), caps);
    assert.ok(!plan.refuse);
    if (plan.refuse) return;
    assert.deepEqual(plan.mailParams, ['SIZE=' + content.length, 'BY=300;R', 'MT-PRIORITY=5', 'RET=HDRS', 'ENVID=QQ314159', 'ABY=60;R']);
    const r = await c.send({ from: 'eljefe@example.com', mailParams: plan.mailParams, recipients: input('R').recipients.map((x, i) => ({ address: x.address, params: plan.rcptParams[i]! })) }, content);
    await c.quit();
    assert.equal(r.data?.code, 250, JSON.stringify(r));
    const [m] = gw.gateway.store.list();
    assert.deepEqual(m?.priority, { value: 5, source: 'mt-priority', requested: 5 });
    assert.ok(Math.abs(m!.params.by!.at - (now + 300_000)) < 2000);
    assert.equal(m!.params.envid, 'QQ314159');
    assert.deepEqual(m!.recipients.map((x) => [x.notify, x.orcpt, x.arcpt]), [
      [null, undefined, { type: 'rfc822', address: 'bottom-apple@loc2.example.org' }],
      [['SUCCESS', 'FAILURE'], { type: 'rfc822', address: 'Dana+x@Ivory.example.net' }, undefined],
    ]);
  });
});

describe('failures are values the relay can act on', () => {
  test('connection refused, greeting timeout, and a 550 for one recipient', async () => {
    const closedPort = await freePort();
    await assert.rejects(SmtpClient.open({ host: '127.0.0.1', port: closedPort, helo: 'x' }), (e: SmtpClientError) => e.failure.kind === 'connect' && /ECONNREFUSED/.test(e.message));
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sp = (silent.address() as net.AddressInfo).port;
    await assert.rejects(SmtpClient.open({ host: '127.0.0.1', port: sp, helo: 'x', timeouts: { greetingMs: 300 } }), (e: SmtpClientError) => e.failure.kind === 'timeout' && e.message.includes('greeting'));
    silent.close();
    const gw = await startGateway({ trusted: ['192.0.2.0/24'], routes: [{ domains: ['local.example'], via: 'maildir:./m' }] });
    try {
      const c = await SmtpClient.open({ host: '127.0.0.1', port: gw.port, helo: 'x' });
      const r = await c.send({ from: 'a@b.example', mailParams: [], recipients: [{ address: 'ok@local.example', params: [] }, { address: 'far@elsewhere.example', params: [] }] }, Buffer.from('Subject: s\r\n\r\nx\r\n'));
      await c.quit();
      assert.deepEqual(r.rcpt.map((x) => [x.code, x.enhanced]), [[250, '2.1.5'], [550, '5.7.1']]);
      assert.equal(r.data?.code, 250);
    } finally {
      await gw.stop();
    }
  });
});

test('dot-stuffing and atomic Maildir delivery', () => {
  assert.equal(dotStuff(Buffer.from('.a\r\nb\r\n.\r\n..c')).toString(), '..a\r\nb\r\n..\r\n...c\r\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-maildir-'));
  try {
    const file = deliverToMaildir(path.join(dir, 'Maildir'), content);
    assert.equal(path.dirname(file), path.join(dir, 'Maildir', 'new'));
    assert.deepEqual(readdirSync(path.join(dir, 'Maildir', 'tmp')), []);
    assert.ok(readFileSync(file).equals(content));
    // with a key, delivering again (after a crash before the outcome was recorded) writes nothing new
    const once = deliverToMaildir(path.join(dir, 'Maildir'), content, Date.now(), '01ABC-0');
    assert.equal(deliverToMaildir(path.join(dir, 'Maildir'), content, Date.now() + 5000, '01ABC-0'), once);
    assert.equal(readdirSync(path.join(dir, 'Maildir', 'new')).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('STARTTLS: opportunistic when offered, and "required" refuses a server without it', async () => {
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=next.example', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
    const tlsGw = await startGateway({ tls: { key: path.join(dir, 'k.pem'), cert: path.join(dir, 'c.pem') } });
    const plain = await startGateway();
    try {
      const c = await SmtpClient.open({ host: '127.0.0.1', port: tlsGw.port, helo: 'bravo.base.example' });
      assert.equal(c.secure, true);
      assert.ok(c.capabilities.has('DELIVERBY'), 'EHLO again after STARTTLS');
      await c.quit();
      await assert.rejects(SmtpClient.open({ host: '127.0.0.1', port: plain.port, helo: 'x', starttls: 'required' }), (e: SmtpClientError) => e.failure.kind === 'tls');
    } finally {
      await tlsGw.stop();
      await plain.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LMTP: LHLO, and one reply per accepted recipient after the data', async () => {
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    lmtp: true,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo: (a, _s, cb) => cb(a.address.startsWith('gone') ? Object.assign(new Error('no such mailbox'), { responseCode: 550 }) : undefined),
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => cb(null, session.envelope.rcptTo.map((r) => (r.address.startsWith('full') ? Object.assign(new Error('4.2.2 mailbox full'), { responseCode: 452 }) : 'stored'))));
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = await SmtpClient.open({ host: '127.0.0.1', port: (server.server.address() as net.AddressInfo).port, helo: 'bravo', lmtp: true });
    const r = await c.send({ from: 'a@b.example', mailParams: [], recipients: ['ok@x.example', 'gone@x.example', 'full@x.example'].map((address) => ({ address, params: [] })) }, Buffer.from('Subject: l\r\n\r\nx\r\n'));
    await c.quit();
    assert.deepEqual(r.rcpt.map((x) => x.code), [250, 550, 250]);
    assert.deepEqual(r.perRecipientData?.map((x) => x?.code), [250, undefined, 452]);
  } finally {
    server.close();
  }
});
