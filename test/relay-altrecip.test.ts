// ALTRECIP triggers and the seed's next-hop dialog, driven through the relay with a clock the test moves.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { Clock, QueuedMessage, Route } from '../src/core/index.ts';
import { MessageStore } from '../src/queue/index.ts';
import { RelayRunner } from '../src/relay/index.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';
import { scriptedPeer, type ScriptedPeer } from './support/scripted-peer.ts';

let dir: string;
let store: MessageStore;
let primary: ScriptedPeer; // the primary's hop: no ALTRECIP, so redirects stay with us
let primaryBy: ScriptedPeer; // the same with DELIVERBY, so an R-mode deadline may go there
let alternate: ScriptedPeer; // loc2.example.org: DSN, DELIVERBY, ALTRECIP
let silent: net.Server;
let silentPort: number;
const t0 = 1_800_000_000_000;
const clock = { t: t0, now() { return this.t; }, setTimer: () => ({ cancel() {} }) } satisfies Clock & { t: number };
let seq = 0;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-altrecip-'));
  store = MessageStore.open(dir);
  primary = await scriptedPeer(['DSN']);
  primaryBy = await scriptedPeer(['DSN', 'DELIVERBY 30']);
  alternate = await scriptedPeer(['DSN', 'DELIVERBY 30', 'ALTRECIP']);
  silent = net.createServer(() => undefined); // accepts, never greets
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as net.AddressInfo).port;
});
after(async () => {
  store.close();
  await primary.close();
  await primaryBy.close();
  await alternate.close();
  silent.close();
  rmSync(dir, { recursive: true, force: true });
});

function runner(routes: Record<string, Route>): RelayRunner {
  return new RelayRunner(
    store.deliveryView(),
    {
      hostname: 'bravo.base.example',
      retry: { baseMs: 60_000, maxMs: 3_600_000, giveUpMs: 5 * 86_400_000, altRecipWindowMs: 30 * 60_000 },
      connectTimeoutMs: 2000,
      commandTimeoutMs: 500,
      starttls: 'off',
      dns: { servers: [`127.0.0.1:${dnsPort}`], timeoutMs: 500 },
      route: (a) => routes[a.slice(a.indexOf('@') + 1)] ?? null,
      newId: () => `01RELAY${String(seq++).padStart(13, '0')}`,
    },
    clock,
    pino({ level: 'silent' }),
  );
}

const smtp = (port: number): Route => ({ kind: 'smtp', target: `127.0.0.1:${port}` });

function seedMessage(primaryAddress: string, route: Route, over: Partial<QueuedMessage> = {}): QueuedMessage {
  return buildMessage({
    receivedAt: clock.now(),
    sender: 'eljefe@example.com',
    params: { smtputf8: false, envid: 'QQ314159', by: { at: clock.now() + 120_000, mode: 'R', trace: false, requestedSeconds: 120 }, aby: { at: clock.now() + 60_000, mode: 'R', trace: false, requestedSeconds: 60 } },
    recipients: [buildRecipient({ address: primaryAddress, route, arcpt: { type: 'rfc822', address: 'bottom-apple@loc2.example.org' } })],
    content: Buffer.from('Received: from a by alpha; Mon, 1 Jan 2026 00:00:00 +0000\r\nSubject: seed\r\n\r\nhello\r\n'),
    ...over,
  });
}

const routes = () => ({ 'loc2.example.org': smtp(alternate.port), 'example.com': { kind: 'maildir' as const, target: path.join(dir, 'mail') } });

async function redirectedAfter(msg: QueuedMessage, r: RelayRunner): Promise<string[]> {
  const before = alternate.lines.length;
  store.insert(msg);
  await r.run();
  return alternate.lines.slice(before);
}

test('the seed next hop: 451 until ABY=60 passes, then MAIL FROM ... ENVID=QQ314159 BY=60;R to the alternate', async () => {
  clock.t = t0;
  const r = runner({ ...routes() });
  const msg = seedMessage('later-topbanana@example.net', smtp(primaryBy.port));
  assert.deepEqual(await redirectedAfter(msg, r), [], 'no redirect while the primary only defers');
  assert.equal(store.get(msg.id)!.recipients[0]!.state, 'queued');
  assert.equal(store.delivery.nextDueAt(), t0 + 60_000, 'the retry comes no later than the ABY deadline');
  clock.t = t0 + 60_000;
  await r.run(); // ABY passed: redirect, which queues the alternate copy
  await r.run();
  const sent = alternate.lines.slice(-2);
  assert.match(sent[0]!, /^MAIL FROM:<eljefe@example\.com> .*BY=60;R/);
  assert.match(sent[0]!, /ENVID=QQ314159/);
  assert.doesNotMatch(sent[0]!, /ABY=/);
  // the alternate keeps the primary's ORCPT (here the primary itself), so DSNs correlate (decisions.md)
  assert.equal(sent[1], 'RCPT TO:<bottom-apple@loc2.example.org> ORCPT=rfc822;later-topbanana@example.net');
  assert.match(primaryBy.lines.at(-2)!, /^MAIL FROM:<eljefe@example\.com> BY=120;R ENVID=QQ314159$/, 'the primary was tried with BY remaining');
  assert.equal(store.get(msg.id)!.recipients[0]!.state, 'redirected');
  assert.match(alternate.messages.at(-1)!, /^Alternate-Recipient-Of: <later-topbanana@example\.net>; reason="4\.4\.7 /);
});

test('550 on RCPT redirects at once', async () => {
  clock.t = t0 + 1_000_000;
  const r = runner({ ...routes() });
  const msg = seedMessage('reject-me@example.net', smtp(primary.port), { params: { smtputf8: false } });
  await redirectedAfter(msg, r);
  await r.run();
  assert.equal(store.get(msg.id)!.recipients[0]!.state, 'redirected');
  assert.match(store.get(msg.id)!.recipients[0]!.status!.text, /no such user/);
  assert.match(alternate.messages.at(-1)!, /reason="5\.1\.1 /);
});

test('an R-mode BY with under a second left at the attempt fails the recipient 5.4.7, and is not redirected to the alternate', async () => {
  clock.t = t0 + 2_000_000;
  const r = runner({ ...routes() });
  const before = alternate.messages.length;
  const msg = seedMessage('later-over@example.net', smtp(primaryBy.port), {
    params: { smtputf8: false, by: { at: clock.now() + 400, mode: 'R', trace: false, requestedSeconds: 9 } },
  });
  store.insert(msg);
  await r.run();
  const rc = store.get(msg.id)!.recipients[0]!;
  assert.equal(rc.state, 'failed');
  assert.equal(rc.status!.status, '5.4.7');
  await r.run();
  assert.equal(alternate.messages.length, before, 'nothing went to the alternate');
});

test('451 past the retry window redirects; before it, the primary is retried', async () => {
  clock.t = t0 + 2_000_000;
  const r = runner({ ...routes() });
  const msg = seedMessage('later-x@example.net', smtp(primary.port), { params: { smtputf8: false } });
  await redirectedAfter(msg, r);
  assert.equal(store.get(msg.id)!.recipients[0]!.state, 'queued');
  clock.t += 10 * 60_000;
  await r.run();
  assert.equal(store.get(msg.id)!.recipients[0]!.state, 'queued', 'still inside the 30-minute window');
  clock.t += 25 * 60_000;
  await r.run();
  await r.run();
  assert.equal(store.get(msg.id)!.recipients[0]!.state, 'redirected');
});

test('a greeting that never comes, and a refused connection, redirect at once', async () => {
  for (const route of [smtp(silentPort), smtp(1)]) {
    clock.t += 86_400_000;
    const r = runner({ ...routes() });
    const msg = seedMessage('topbanana@example.net', route, { params: { smtputf8: false } });
    await redirectedAfter(msg, r);
    await r.run();
    const rc = store.get(msg.id)!.recipients[0]!;
    assert.equal(rc.state, 'redirected', JSON.stringify(rc.status));
    assert.match(rc.status!.text, /timeout during greeting|ECONNREFUSED/);
  }
});

// A test DNS server on loopback: NXDOMAIN for nx.example, silence for slow.example.
let dnsPort = 0;
let dnsSocket: dgram.Socket;
before(async () => {
  const sock = (dnsSocket = dgram.createSocket('udp4'));
  sock.on('message', (q, from) => {
    const name = [];
    for (let i = 12; q[i]; i += q[i]! + 1) name.push(q.subarray(i + 1, i + 1 + q[i]!).toString());
    if (name.join('.').endsWith('slow.example')) return; // never answers
    const end = 12 + name.reduce((n, l) => n + l.length + 1, 0) + 1 + 4;
    const reply = Buffer.concat([q.subarray(0, 2), Buffer.from([0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0]), q.subarray(12, end)]); // QR RD RA, RCODE 3
    sock.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  dnsPort = sock.address().port;
});
after(() => dnsSocket.close());

test('DNS: NXDOMAIN and a resolver that never answers both redirect (5.1.2, 4.4.3)', async () => {
  for (const [addr, status] of [['topbanana@nx.example', '5.1.2'], ['topbanana@slow.example', '4.4.3']] as const) {
    clock.t += 86_400_000;
    const r = runner({ ...routes() });
    const msg = seedMessage(addr, { kind: 'mx', target: '' }, { params: { smtputf8: false } });
    await redirectedAfter(msg, r);
    await r.run();
    const rc = store.get(msg.id)!.recipients[0]!;
    assert.equal(rc.state, 'redirected', JSON.stringify(rc.status));
    assert.equal(rc.status!.status, status, JSON.stringify(rc.status));
    assert.match(alternate.messages.at(-1)!, new RegExp(`^Alternate-Recipient-Of: <${addr.replace('.', '\\.')}>; reason="${status.replace(/\./g, '\\.')} `));
  }
});

test('a hop without DSN: NOTIFY=SUCCESS earns a "relayed" DSN from us; past an N-mode BY, one "delayed" DSN (4.4.7)', async () => {
  const noDsn = await scriptedPeer([]);
  try {
    clock.t += 86_400_000;
    const r = runner({ ...routes() });
    // DSNs to eljefe@example.com are delivered into this Maildir by the same relay.
    const mailDsns = () => {
      const d = path.join(dir, 'mail', 'new');
      return existsSync(d) ? readdirSync(d).map((f) => readFileSync(path.join(d, f), 'utf8')) : [];
    };
    const before = mailDsns().length;
    const ok = buildMessage({ receivedAt: clock.now(), sender: 'eljefe@example.com', recipients: [buildRecipient({ address: 'x@example.net', notify: ['SUCCESS'], route: smtp(noDsn.port) })] });
    store.insert(ok);
    await r.run();
    assert.equal(noDsn.lines.at(-1), 'RCPT TO:<x@example.net>', 'no NOTIFY to a hop without DSN');
    assert.equal(store.get(ok.id)!.recipients[0]!.state, 'delivered');
    assert.equal(mailDsns().length, before + 1);
    assert.ok(mailDsns().some((t) => t.includes(ok.recipients[0]!.address) && /Action: relayed/.test(t)));

    const late = buildMessage({
      receivedAt: clock.now(),
      sender: 'eljefe@example.com',
      params: { smtputf8: false, by: { at: clock.now() + 60_000, mode: 'N', trace: false, requestedSeconds: 60 } },
      recipients: [buildRecipient({ address: 'later-y@example.net', notify: null, route: smtp(primaryBy.port) })],
    });
    store.insert(late);
    await r.run(); // 451, still inside BY
    clock.t += 120_000;
    await r.run(); // 451 again, now past BY: one delayed DSN
    clock.t += 600_000;
    await r.run(); // and no second one
    clock.t += 1_800_000;
    await r.run(); // nor after further attempts (each keeps the recipient's 4.4.7)
    clock.t += 3_600_000;
    await r.run();
    const delayed = mailDsns().filter((t) => t.includes('Action: delayed'));
    assert.equal(delayed.length, 1);
    assert.equal(store.get(late.id)!.recipients[0]!.status?.status, '4.4.7');
    assert.match(delayed[0]!, /Status: 4\.4\.7/);
    assert.equal(store.get(late.id)!.recipients[0]!.state, 'queued', 'N mode keeps trying');
  } finally {
    await noDsn.close();
  }
});
