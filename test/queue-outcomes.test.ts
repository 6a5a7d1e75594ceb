// Every accepted message ends in exactly one known outcome: ABY on mail waiting for the radio, loops over the
// radio, arrivals routed back to the radio, all with whole gateways in virtual time over a simulated radio.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { LinkStation } from '../src/link/index.ts';
import { LinkOutbound, MessageStore } from '../src/queue/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { VirtualTimeDriver } from './support/virtual-time.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Routes = { domains: string[]; via: string }[];

async function stations(opts: { bravo: boolean; alphaRoutes: Routes; bravoRoutes?: Routes; bravoLimits?: Record<string, number> }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-outcomes-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'k.key'), 'alpha and bravo share this key');
  const clock = new VirtualClock();
  const radio = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500 }, clock, new SeededRandom(3));
  const log = pino({ level: process.env['HFMAIL_TEST_LOG'] ?? 'silent' });
  const cfg = (name: string, peer: string, routes: Routes, limits?: Record<string, number>) =>
    validateConfig({
      station: name,
      hostname: `${name}.example`,
      listen: '127.0.0.1:0',
      data: `./${name}/data`,
      routes,
      links: [{ peer, port: 'radio', profile: 'stanag4539-2400', key: './k.key' }],
      ...(limits ? { limits } : {}),
    });
  const alpha = new Gateway({ log, baseDir: dir, clock, random: new SeededRandom(1), config: cfg('alpha', 'bravo', opts.alphaRoutes), linkPorts: { bravo: radio.a } });
  const bravo = opts.bravo ? new Gateway({ log, baseDir: dir, clock, random: new SeededRandom(2), config: cfg('bravo', 'alpha', opts.bravoRoutes!, opts.bravoLimits), linkPorts: { alpha: radio.b } }) : undefined;
  await alpha.start();
  await bravo?.start();
  const drive = new VirtualTimeDriver(clock, () => alpha.relay.busy || (bravo?.relay.busy ?? false));
  return {
    dir,
    clock,
    alpha,
    bravo,
    drive,
    mail: (who: string) => {
      const d = path.join(dir, who, 'maildir', 'new');
      return existsSync(d) ? readdirSync(d).map((f) => readFileSync(path.join(d, f), 'utf8')) : [];
    },
    async stop() {
      await alpha.stop();
      await bravo?.stop();
    },
  };
}

async function submit(port: number, from: string, mailParams: string, rcpts: [string, string][], body: string): Promise<string> {
  const c = await RawSmtp.connect(port);
  await c.ehlo('laptop.field.example');
  assert.match(await c.cmd(`MAIL FROM:<${from}>${mailParams ? ' ' + mailParams : ''}`), /^250 /);
  for (const [r, p] of rcpts) assert.match(await c.cmd(`RCPT TO:<${r}>${p ? ' ' + p : ''}`), /^250 /);
  const id = /queued as (\S+)/.exec(await c.data(body))![1]!;
  await c.quit();
  return id;
}

test('ABY on mail waiting for a radio link that is down: one copy to the alternate, only the recipient with an ARCPT leaves the link, nothing recurses', async () => {
  const s = await stations({ bravo: false, alphaRoutes: [{ domains: ['field.example'], via: 'maildir:./alpha/maildir' }, { domains: ['*'], via: 'link:bravo' }] });
  try {
    const id = await submit(
      s.alpha.address!.port,
      'eljefe@field.example',
      'BY=600;R ABY=60;R ENVID=aby1',
      [
        ['topbanana@example.net', 'ARCPT=rfc822;bottom-apple@field.example NOTIFY=SUCCESS,FAILURE'],
        ['other@example.net', 'NOTIFY=FAILURE'],
      ],
      'From: eljefe@field.example\r\nSubject: aby\r\nMessage-ID: <aby1@laptop>\r\n\r\nwaiting for the radio\r\n',
    );
    await s.drive.until('the ABY redirect', () => s.mail('alpha').some((m) => m.includes('<aby1@laptop>') && /Alternate-Recipient-Of/i.test(m)), { virtualMs: 120_000, realMs: 20_000 });
    // Ten more minutes of virtual time (the BY passes too): still exactly one copy, and the rest as it should be.
    await s.drive.advance(600_000, 20_000);
    const reports = s.mail('alpha').filter((m) => /multipart\/report/i.test(m));
    const copies = s.mail('alpha').filter((m) => m.includes('<aby1@laptop>') && /Alternate-Recipient-Of/i.test(m) && !reports.includes(m));
    assert.equal(copies.length, 1, 'one copy for the alternate');
    const m = s.alpha.store.get(id)!;
    assert.deepEqual(m.recipients.map((r) => [r.address, r.state]), [['topbanana@example.net', 'redirected'], ['other@example.net', 'failed']]);
    // The recipient without an ARCPT failed at the BY (5.4.7), not at the ABY: it waited for the link until then.
    assert.equal(m.recipients[1]!.status!.status, '5.4.7');
    assert.ok(m.recipients[1]!.status!.at - m.receivedAt >= 600_000, 'failed at the BY, not at the ABY');
    // The sender hears once of each: topbanana relayed to its alternate, the alternate's delivery (its NOTIFY
    // goes with it), other@ failed at the BY.
    const said = reports.flatMap((r) => [...r.matchAll(/Final-Recipient: rfc822;\s*(\S+)\r\nAction: (\S+)/gi)].map((x) => `${x[1]} ${x[2]}`)).sort();
    assert.deepEqual(said, ['bottom-apple@field.example delivered', 'other@example.net failed', 'topbanana@example.net relayed']);
    assert.ok(reports.some((r) => /X-Redirected-To: rfc822;\s*bottom-apple@field\.example/i.test(r)), 'the redirect DSN names the alternate');
  } finally {
    await s.stop();
  }
});

test('a loop over the radio ends in a 5.4.6 failure DSN to the sender; an arrival routed back to the radio wakes the link', async () => {
  const s = await stations({
    bravo: true,
    alphaRoutes: [{ domains: ['field.example'], via: 'maildir:./alpha/maildir' }, { domains: ['*'], via: 'link:bravo' }],
    bravoRoutes: [{ domains: ['base.example'], via: 'maildir:./bravo/maildir' }, { domains: ['*'], via: 'link:alpha' }],
  });
  try {
    const id = await submit(s.alpha.address!.port, 'you@field.example', 'ENVID=loop1', [['someone@nowhere.example', 'NOTIFY=FAILURE']], 'From: you@field.example\r\nSubject: loop\r\nMessage-ID: <loop1@laptop>\r\n\r\nround and round\r\n');
    await s.drive.until('the failure DSN at alpha', () => s.mail('alpha').some((m) => m.includes('<loop1@laptop>') && /multipart\/report/i.test(m)), { virtualMs: 1_800_000, realMs: 30_000 });
    const dsn = s.mail('alpha').find((m) => m.includes('<loop1@laptop>'))!;
    assert.match(dsn, /Action: failed/);
    assert.match(dsn, /Status: 5\.4\.6/);
    assert.match(dsn, /Final-Recipient: rfc822;\s*someone@nowhere\.example/i);
    // At bravo the looping message failed once, with the loop named; alpha took nothing twice.
    const atBravo = s.bravo!.store.get(id)!;
    assert.deepEqual(atBravo.recipients.map((r) => [r.state, r.status?.status]), [['failed', '5.4.6']]);
    assert.deepEqual(s.alpha.store.get(id)!.recipients.map((r) => r.state), ['delivered']); // custody by bravo
    await s.drive.advance(600_000, 20_000);
    assert.equal(s.mail('alpha').filter((m) => m.includes('<loop1@laptop>')).length, 1, 'one DSN, no more');
    assert.equal(s.mail('bravo').length, 0);
  } finally {
    await s.stop();
  }
});

test('a message over the Received limit arriving from the radio is refused (5.4.6) and its sender gets the DSN', async () => {
  const s = await stations({
    bravo: true,
    alphaRoutes: [{ domains: ['field.example'], via: 'maildir:./alpha/maildir' }, { domains: ['*'], via: 'link:bravo' }],
    bravoRoutes: [{ domains: ['base.example'], via: 'maildir:./bravo/maildir' }, { domains: ['*'], via: 'link:alpha' }],
    bravoLimits: { maxReceived: 6 },
  });
  try {
    const hops = Array.from({ length: 4 }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Fri, 15 Jan 2027 08:00:0${i} +0000\r\n`).join('');
    await submit(s.alpha.address!.port, 'you@field.example', '', [['ops@base.example', 'NOTIFY=FAILURE']], `${hops}From: you@field.example\r\nSubject: hops\r\nMessage-ID: <hops1@laptop>\r\n\r\nmany hops\r\n`);
    await s.drive.until('the failure DSN at alpha', () => s.mail('alpha').some((m) => m.includes('<hops1@laptop>')), { virtualMs: 1_800_000, realMs: 30_000 });
    const dsn = s.mail('alpha').find((m) => m.includes('<hops1@laptop>'))!;
    assert.match(dsn, /Status: 5\.4\.6/);
    assert.equal(s.mail('bravo').length, 0, 'nothing delivered at bravo');
  } finally {
    await s.stop();
  }
});

test('an arrival for a link with a backlog costs the link one row: the queue says which message is new, the backlog is not read again', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-backlog-'));
  dirs.push(dir);
  const store = MessageStore.open(dir);
  try {
    const clock = new VirtualClock();
    const radio = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500 }, clock, new SeededRandom(4));
    const outbound = new LinkOutbound(store, 'bravo', { now: () => clock.now(), makeBundle: (m) => Uint8Array.from(m.content), withdrawn: () => undefined, refused: () => undefined });
    let fullReads = 0;
    let rowsRead = 0;
    const source = {
      pending: () => (fullReads++, outbound.pending()),
      itemsById: (ids: readonly string[]) => {
        const items = outbound.itemsById(ids);
        rowsRead += items.length;
        return items;
      },
      custodyConfirmed: (id: string) => outbound.custodyConfirmed(id),
      expired: (id: string, now: number) => outbound.expired(id, now),
      refused: (id: string, s: string, t: string, now: number) => outbound.refused(id, s, t, now),
    };
    // The peer is off the air: the link keeps calling while the backlog waits.
    const station = new LinkStation(
      { station: 'alpha', peer: 'bravo', key: new TextEncoder().encode('a key for the backlog test'), role: 'caller', duplex: 'half', bitRate: 2400, turnaroundMs: 1500, maxFrame: 256, window: 32, maxOverMs: 20_000 },
      { clock, random: new SeededRandom(5), port: radio.a, source, sink: { accept: async () => undefined }, progress: store.link },
    );
    store.onLinkWork((_peer, ids) => station.notify(ids));
    const msg = (i: number) =>
      buildMessage({ id: `01BACKLOG${String(i).padStart(11, '0')}`, recipients: [buildRecipient({ address: `r${i}@example.net`, route: { kind: 'link', target: 'bravo' } })] });
    store.transaction(() => {
      for (let i = 0; i < 2000; i++) store.insert(msg(i));
    });
    station.start();
    await clock.runUntil(clock.now() + 10_000);
    assert.equal(station.snapshot().pending, 2000);
    const before = { fullReads, rowsRead };
    for (let i = 2000; i < 2050; i++) {
      store.insert(msg(i));
      await clock.runUntil(clock.now() + 100);
    }
    assert.equal(station.snapshot().pending, 2050);
    assert.equal(fullReads - before.fullReads, 0, 'no arrival read the whole backlog');
    assert.equal(rowsRead - before.rowsRead, 50, 'each arrival read its own row');
    station.stop();
  } finally {
    store.close();
  }
});
