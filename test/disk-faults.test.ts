// A full disk, injected (a short write, SQLITE_FULL from a page limit) and, where this machine lets us mount a
// small tmpfs, real: a message truncated by a full Maildir disk is never recorded delivered, the relay backs off
// with one log line per state change instead of spinning, the queue answers with typed errors, and a link
// receiver refuses a bundle for now (4.3.1) instead of crashing; everything is delivered once, whole, after.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type Database from 'better-sqlite3';
import pino from 'pino';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { bundleFromMessage, encodeBundle } from '../src/codec/index.ts';
import { storageFault, type Route } from '../src/core/index.ts';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { faultTolerantProgress, LinkInbound } from '../src/gateway/link-endpoint.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { MemoryOutbound, MemoryProgressStore } from '../src/link/contracts.ts';
import { isQueueError, MessageStore } from '../src/queue/index.ts';
import { deliverToMaildir, RelayRunner, type DeliveryStore } from '../src/relay/index.ts';
import type { MaildirIo } from '../src/relay/maildir.ts';
import { STORAGE_BACKOFF_FIRST_MS, STORAGE_BACKOFF_MAX_MS } from '../src/relay/storage-faults.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';
import { TestClock, testRandom, wire } from './support/mini-sim.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { openStore, tempDir } from './support/temp-store.ts';
import { VirtualTimeDriver } from './support/virtual-time.ts';

/** Bytes that do not compress (printable: base64 of a SHA-256 counter stream), so bundles and files are as large as the content. */
function noise(n: number, seed = 7): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, len = 0; len < n; i++, len += 44) parts.push(Buffer.from(createHash('sha256').update(`${seed}:${i}`).digest('base64')));
  return Buffer.concat(parts).subarray(0, n);
}

/** A Maildir writer whose disk is full while `full.on`: the first write stores part, the next stores nothing. */
function fullDiskIo(full: { on: boolean }): MaildirIo & { calls: number } {
  const io = {
    calls: 0,
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
      io.calls++;
      if (!full.on) return fs.writeSync(fd, buffer, offset, length);
      if (offset > 0) return 0;
      return fs.writeSync(fd, buffer, offset, Math.min(length, 4096));
    },
  };
  return io;
}

function files(dir: string, sub: string): string[] {
  try {
    return fs.readdirSync(path.join(dir, sub));
  } catch {
    return [];
  }
}

/** The store's database, for a page limit that makes SQLite answer SQLITE_FULL (a full disk without a disk). */
function dbOf(store: MessageStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}
function fillQueue(store: MessageStore): () => void {
  const db = dbOf(store);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  return () => void db.pragma('max_page_count = 1073741823');
}

function logLines(): { log: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

test('Maildir: a short write throws a full-disk fault and leaves nothing in tmp/ or new/', (t) => {
  const dir = path.join(tempDir(t, 'hfmail-md-'), 'M');
  const content = noise(700_204);
  const io = fullDiskIo({ on: true });
  assert.throws(
    () => deliverToMaildir(dir, content, 1_000_000, 'ID1-0', 'a@b.example', io),
    (err: unknown) => storageFault(err) === 'full' && /short write/.test((err as Error).message),
  );
  assert.deepEqual(files(dir, 'tmp'), []);
  assert.deepEqual(files(dir, 'new'), []);
});

test('Maildir: a stale partial file in tmp/ and a truncated one in new/ are replaced; a complete one is found and nothing is written', (t) => {
  const dir = path.join(tempDir(t, 'hfmail-md-'), 'M');
  const content = noise(50_000);
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  // What an earlier version left: a partial file in tmp/ and a truncated "delivered" one in new/.
  fs.writeFileSync(path.join(dir, 'tmp', '999.M1KID2-0.host'), content.subarray(0, 1000));
  fs.writeFileSync(path.join(dir, 'new', '999.M1KID2-0.host'), Buffer.concat([Buffer.from('Return-Path: <>\r\n'), content.subarray(0, 47_000)]));
  const file = deliverToMaildir(dir, content, 2_000_000, 'ID2-0', '');
  assert.deepEqual(fs.readFileSync(file), Buffer.concat([Buffer.from('Return-Path: <>\r\n'), content]));
  assert.deepEqual(files(dir, 'tmp'), []);
  assert.deepEqual(files(dir, 'new'), [path.basename(file)]);
  // The same delivery again finds the complete file and writes nothing.
  const io = fullDiskIo({ on: false });
  assert.equal(deliverToMaildir(dir, content, 3_000_000, 'ID2-0', '', io), file);
  assert.equal(io.calls, 0);
  // A file that differs in one byte at the same size is not the message either.
  const bad = Buffer.from(fs.readFileSync(file));
  bad[bad.length - 1]! ^= 1;
  fs.writeFileSync(file, bad);
  const again = deliverToMaildir(dir, content, 4_000_000, 'ID2-0', '');
  assert.notEqual(again, file);
  assert.deepEqual(fs.readFileSync(again).subarray(17), content);
  assert.deepEqual(files(dir, 'new'), [path.basename(again)]);
});

function relayFor(t: TestContext, view: DeliveryStore, clock: VirtualClock, log: pino.Logger, maildir: typeof deliverToMaildir) {
  let n = 0;
  const relay = new RelayRunner(
    view,
    {
      hostname: 'bravo.base.example',
      retry: { baseMs: 60_000, maxMs: 3_600_000, giveUpMs: 86_400_000, altRecipWindowMs: 1_800_000 },
      connectTimeoutMs: 5000,
      commandTimeoutMs: 5000,
      starttls: 'off',
      dns: { servers: [], timeoutMs: 500 },
      route: () => null,
      newId: () => `01DISK${String(n++).padStart(14, '0')}`,
    },
    clock,
    log,
    maildir,
  );
  t.after(() => relay.stop());
  return relay;
}

test('relay: a Maildir disk full mid-message leaves it queued (never delivered, never failed), backs off 5 s doubling, logs once each way, then delivers it whole', async (t) => {
  const store = openStore(t);
  const maildirDir = path.join(tempDir(t, 'hfmail-md-'), 'mail');
  const clock = new VirtualClock();
  const { log, lines } = logLines();
  const full = { on: true };
  const io = fullDiskIo(full);
  let attempts = 0;
  const relay = relayFor(t, store.deliveryView(), clock, log, (dir, content, now, key, rp) => {
    attempts++;
    return deliverToMaildir(dir, content, now, key, rp, io);
  });
  const content = noise(700_204);
  const route: Route = { kind: 'maildir', target: maildirDir };
  const m = buildMessage({ receivedAt: clock.now(), sender: 'eljefe@field.example', recipients: [buildRecipient({ address: 'ops@base.example', route })], content });
  store.insert(m);
  const drive = new VirtualTimeDriver(clock, () => relay.busy);
  relay.start();
  await drive.advance(10 * 60_000, 20_000);
  // 0, 5, 15, 35, 75, 155, 315 s, then every 5 min: 7 attempts in 10 minutes, not thousands.
  assert.ok(attempts >= 5 && attempts <= 9, `attempts in 10 virtual minutes: ${attempts}`);
  const rc = store.get(m.id)!.recipients[0]!;
  assert.equal(rc.state, 'queued');
  assert.equal(rc.status, undefined, 'nothing recorded for a fault of our own disk');
  assert.deepEqual(files(maildirDir, 'new'), []);
  assert.deepEqual(files(maildirDir, 'tmp'), []);
  const errors = lines.filter((l) => l.level >= 50);
  assert.equal(errors.length, 1, `one error line on entering the state: ${JSON.stringify(errors)}`);
  assert.match(errors[0]!.msg, /disk full at maildir:/);
  // Space returns: the next try (within the 5 min cap) delivers it whole, and the state is left once.
  full.on = false;
  await drive.advance(STORAGE_BACKOFF_MAX_MS + STORAGE_BACKOFF_FIRST_MS, 20_000);
  const done = store.get(m.id)!.recipients[0]!;
  assert.equal(done.state, 'delivered');
  const box = files(maildirDir, 'new');
  assert.equal(box.length, 1);
  assert.deepEqual(fs.readFileSync(path.join(maildirDir, 'new', box[0]!)), Buffer.concat([Buffer.from('Return-Path: <eljefe@field.example>\r\n'), content]));
  assert.equal(lines.filter((l) => /works again/.test(l.msg)).length, 1);
  assert.equal(lines.filter((l) => l.level >= 50).length, 1, 'no error line after the first');
});

test('relay: SQLITE_FULL while recording the outcome leaves the message queued; the queue backs off; once there is room it is recorded delivered and the Maildir holds it once', async (t) => {
  const store = openStore(t);
  const maildirDir = path.join(tempDir(t, 'hfmail-md-'), 'mail');
  const clock = new VirtualClock();
  const { log, lines } = logLines();
  let attempts = 0;
  // The outcome's transaction fails as SQLite fails on a full disk (an UPDATE in place needs no new page, so a
  // page limit would not catch it): injected in the store the relay is given.
  const full = { on: false };
  const view = store.deliveryView();
  const failing = {
    ...view,
    transaction: <T>(fn: () => T): T =>
      view.transaction(() => {
        const v = fn();
        if (full.on) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        return v;
      }),
  };
  const relay = relayFor(t, failing, clock, log, (...a) => {
    attempts++;
    return deliverToMaildir(...a);
  });
  const route: Route = { kind: 'maildir', target: maildirDir };
  const m = buildMessage({ receivedAt: clock.now(), recipients: [buildRecipient({ address: 'ops@base.example', route })], content: noise(20_000) });
  store.insert(m);
  full.on = true;
  const drive = new VirtualTimeDriver(clock, () => relay.busy);
  relay.start();
  await drive.advance(60_000, 20_000);
  assert.ok(attempts >= 2 && attempts <= 5, `attempts in a virtual minute: ${attempts}`);
  assert.equal(store.get(m.id)!.recipients[0]!.state, 'queued');
  assert.equal(lines.filter((l) => l.level >= 50).length, 1);
  assert.match(lines.find((l) => l.level >= 50)!.msg, /disk full at queue/);
  full.on = false;
  await drive.advance(STORAGE_BACKOFF_MAX_MS, 20_000);
  assert.equal(store.get(m.id)!.recipients[0]!.state, 'delivered');
  assert.equal(files(maildirDir, 'new').length, 1, 'delivered once: the retry found the complete file');
});

test('queue: SQLITE_FULL comes out as QueueError disk-full (transactions, a message from the link), and nothing is stored', (t) => {
  const store = openStore(t);
  const room = fillQueue(store);
  const m = buildMessage({ content: noise(30_000) });
  assert.throws(
    () => store.takeFromLink('alpha', m, 1),
    (err: unknown) => isQueueError(err) && err.code === 'disk-full' && storageFault(err) === 'full',
  );
  assert.throws(
    () => store.transaction(() => store.insert(buildMessage({ content: noise(30_000) }))),
    (err: unknown) => isQueueError(err) && err.code === 'disk-full',
  );
  assert.equal(store.get(m.id), undefined);
  assert.equal(store.link.isDelivered('alpha', m.id), false);
  room();
  assert.equal(store.takeFromLink('alpha', m, 1), 'taken');
});

test('queue: the database, its WAL and shared memory are 0600 in a 0700 folder', (t) => {
  const dir = path.join(tempDir(t), 'data');
  const store = openStore(t, dir);
  store.insert(buildMessage());
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  for (const f of ['queue.db', 'queue.db-wal', 'queue.db-shm']) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
});

test('link: SQLITE_FULL while taking a bundle refuses it for now (4.3.1) without a crash; the sender keeps it, backs off, and it is taken once after the disk has room', async (t) => {
  const clock = new TestClock();
  const w = wire(clock, 9600, 200);
  const key = new TextEncoder().encode('a shared key for alpha and bravo');
  const opts = { key, duplex: 'half', bitRate: 9600, turnaroundMs: 200, maxFrame: 256, window: 64, maxOverMs: 10_000 } as const;
  const store = openStore(t);
  const { log, lines } = logLines();
  const route: Route = { kind: 'maildir', target: '/nonexistent' };
  const endpoint = { station: 'bravo', hostname: 'bravo.example', peer: 'alpha', route: () => route, clock, log, maxMessageSize: 1 << 20, maxReceived: 50 };
  const inbound = new LinkInbound(store, { kick: () => undefined } as unknown as RelayRunner, endpoint);
  const aEvents: LinkEvent[] = [];
  const bEvents: LinkEvent[] = [];
  const out = new MemoryOutbound();
  const alpha = new LinkStation({ ...opts, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: testRandom(1), port: w.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore(), onEvent: (e) => aEvents.push(e) });
  const bravo = new LinkStation(
    { ...opts, station: 'bravo', peer: 'alpha', role: 'answerer' },
    { clock, random: testRandom(2), port: w.b, source: new MemoryOutbound(), sink: inbound, progress: faultTolerantProgress(store.link, log), onEvent: (e) => bEvents.push(e) },
  );
  t.after(() => (alpha.stop(), bravo.stop()));
  out.onAdd(() => alpha.notify());
  const m = buildMessage({ receivedAt: clock.now(), content: noise(20_000) });
  out.add({ id: m.id, priority: 0, queuedAt: clock.now(), bundle: encodeBundle(bundleFromMessage(m, clock.now()), 0) });
  const room = fillQueue(store);
  alpha.start();
  bravo.start();
  await clock.run(clock.now() + 120_000);
  const deferred = aEvents.filter((e) => e.type === 'deferred');
  assert.ok(deferred.length >= 1, `alpha was told to wait: ${JSON.stringify(aEvents.map((e) => e.type))}`);
  assert.ok(deferred.every((e) => e.type === 'deferred' && e.status === '4.3.1'), JSON.stringify(deferred));
  assert.equal(out.pending().length, 1, 'the sender keeps the message');
  assert.deepEqual([out.confirmed, out.refusals], [[], []]);
  assert.equal(store.get(m.id), undefined);
  assert.ok(bEvents.some((e) => e.type === 'refusing' && e.status === '4.3.1'));
  // One line when saving progress starts failing and one when it works again, at most once per offer, never per frame.
  const told = lines.filter((l) => /link progress is kept in memory only/.test(l.msg)).length;
  assert.ok(told >= 1 && told <= deferred.length + 1, `${told} lines for ${deferred.length + 1} offers`);
  assert.ok(lines.filter((l) => /saved again/.test(l.msg)).every((l) => (l as unknown as { faults: number }).faults > 1), 'a fault per frame is not a line per frame');
  // Room again: the next offer (after the sender's backoff) is taken, once.
  room();
  await clock.run(clock.now() + 3_600_000);
  assert.deepEqual(out.confirmed, [m.id]);
  assert.equal(out.pending().length, 0);
  const got = store.get(m.id)!;
  assert.ok(Buffer.from(got.content).subarray(-20_000).equals(noise(20_000)));
  assert.equal(bEvents.filter((e) => e.type === 'delivered').length, 1);
});

/** A tmpfs of `size` bytes mounted for the test, or the reason it cannot be. */
function smallTmpfs(t: TestContext, size: string): string | { skip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hfmail-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}` };
  }
  t.after(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the file system of `dir` up to `leave` bytes free; returns a function that frees the space again. */
function fillDisk(dir: string, leave: number): () => void {
  const filler = path.join(dir, 'filler');
  const free = () => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  const fd = fs.openSync(filler, 'w');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    while (free() > leave + chunk.length) fs.writeSync(fd, chunk);
    let rest = free() - leave;
    while (rest > 0) {
      const n = fs.writeSync(fd, chunk, 0, Math.min(rest, 4096));
      rest -= n;
    }
  } catch (err) {
    if (storageFault(err) !== 'full') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return () => fs.rmSync(filler, { force: true });
}

test('a real full file system (tmpfs): the Maildir write fails whole, the queue says disk-full, both work again once there is room', (t) => {
  const mnt = smallTmpfs(t, '4m');
  if (typeof mnt !== 'string') {
    console.log(`# skipped: ${mnt.skip}`);
    return t.skip(mnt.skip);
  }
  const store = MessageStore.open(path.join(mnt, 'data'));
  t.after(() => store.close());
  store.insert(buildMessage());
  const maildir = path.join(mnt, 'mail');
  deliverToMaildir(maildir, Buffer.from('Subject: first\r\n\r\n'), 1_000, 'FIRST-0');
  const free = fillDisk(mnt, 100 * 1024);
  const content = noise(700_204);
  assert.throws(() => deliverToMaildir(maildir, content, 2_000, 'BIG-0', ''), (err: unknown) => storageFault(err) === 'full');
  assert.deepEqual(files(maildir, 'tmp'), [], 'no partial file left behind');
  assert.equal(files(maildir, 'new').length, 1);
  assert.throws(
    () => store.takeFromLink('alpha', buildMessage({ id: '01TMPFS0000000000001', content: noise(300_000) }), 1),
    (err: unknown) => isQueueError(err) && err.code === 'disk-full',
  );
  // A restart on the still-full disk opens the queue (no crash) and reads what it holds.
  const again = MessageStore.open(path.join(mnt, 'data'));
  assert.equal(again.count(), 1);
  again.close();
  free();
  const file = deliverToMaildir(maildir, content, 3_000, 'BIG-0', '');
  assert.deepEqual(fs.readFileSync(file).subarray(17), content);
  assert.equal(store.takeFromLink('alpha', buildMessage({ id: '01TMPFS0000000000001', content: noise(300_000) }), 1), 'taken');
});

test('a gateway restarted on a disk full to the last byte (tmpfs) starts, answers SMTP (452 4.3.1 for mail it cannot store), and takes mail again once there is room', async (t) => {
  const mnt = smallTmpfs(t, '8m');
  if (typeof mnt !== 'string') {
    console.log(`# skipped: ${mnt.skip}`);
    return t.skip(mnt.skip);
  }
  const config = validateConfig({ listen: '127.0.0.1:0', data: path.join(mnt, 'data'), routes: [{ domains: ['*'], via: 'link:bravo' }], queue: { minFreeBytes: 0 } }, 'test');
  const first = new Gateway({ config, log: pino({ level: 'silent' }), baseDir: mnt });
  await first.start();
  await first.stop();
  assert.ok(fs.existsSync(path.join(mnt, 'data', 'queue.reserve')), 'room kept in reserve');
  const free = fillDisk(mnt, 0);
  const gw = new Gateway({ config, log: pino({ level: 'silent' }), baseDir: mnt });
  const { port } = await gw.start();
  t.after(() => gw.stop());
  const c = await RawSmtp.connect(port);
  assert.match(await c.cmd('EHLO x.example'), /^250/);
  assert.match(await c.cmd('MAIL FROM:<a@field.example>'), /^250/);
  assert.match(await c.cmd('RCPT TO:<b@base.example>'), /^250/);
  assert.match(await c.data(`Subject: full\r\n\r\n${noise(2_000_000).toString('latin1')}\r\n`), /^452 4\.3\.1/);
  free();
  assert.match(await c.cmd('MAIL FROM:<a@field.example>'), /^250/);
  assert.match(await c.cmd('RCPT TO:<b@base.example>'), /^250/);
  assert.match(await c.data('Subject: room again\r\n\r\nbody\r\n'), /^250/);
  await c.quit();
});
