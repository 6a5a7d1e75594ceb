// The operator's hand on the queue (src/queue/operator.ts) against a real SQLite file: hold, release, requeue,
// delete, the --all selections, quarantine of what cannot be decoded, and the retention purge; and the
// gateway's housekeeping that runs them (src/gateway/housekeeping.ts).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { Clock, DeliveryStatus, QueuedMessage, Recipient, Timer } from '../src/core/index.ts';
import { startHousekeeping } from '../src/gateway/housekeeping.ts';
import { MessageStore, QueueError, QUEUE_DB_FILE, type OperatorStatus } from '../src/queue/index.ts';
import { openStore, tempDir as tempDirOf } from './support/temp-store.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';

const T = Date.UTC(2025, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

const tempDir = (t: TestContext) => tempDirOf(t, 'hfmail-operator-');

/** A second connection to the same file, as another process (or a hand with sqlite3) would have. */
function rawDb(t: TestContext, dir: string): Database.Database {
  const db = new Database(join(dir, QUEUE_DB_FILE));
  t.after(() => db.close());
  return db;
}

function assertQueueError(fn: () => unknown, code: QueueError['code'], text?: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof QueueError && err.code === code && (text === undefined || text.test(err.message)));
}

const smtp = (address: string, over: Partial<Recipient> = {}): Recipient => buildRecipient({ address, route: { kind: 'smtp', target: 'relay.example.org:25' }, ...over });
const link = (address: string, over: Partial<Recipient> = {}): Recipient => buildRecipient({ address, route: { kind: 'link', target: 'bravo' }, ...over });

function states(store: MessageStore, id: string): string[] {
  return store.get(id)!.recipients.map((r) => r.state);
}

function dueIds(store: MessageStore, now: number): string[] {
  return [...new Set(store.delivery.due(now).map((d) => d.messageId))];
}

test('a held message is neither due for the relay nor pending for the link, and says why', (t) => {
  const store = openStore(t);
  const m = buildMessage({ receivedAt: T, recipients: [smtp('a@example.net'), link('b@base.example')] });
  const other = buildMessage({ receivedAt: T, recipients: [smtp('c@example.net')] });
  store.insert(m);
  store.insert(other);
  assert.deepEqual(dueIds(store, T).sort(), [m.id, other.id].sort());
  assert.deepEqual(store.linkPending('bravo'), [m.id]);

  const r = store.operator.hold(m.id, 'waiting for the new smarthost', T + 5);
  assert.deepEqual(r.changed, [{ id: m.id, recipients: ['a@example.net', 'b@base.example'] }]);
  assert.deepEqual(dueIds(store, T + 10 * DAY), [other.id]);
  assert.deepEqual(store.linkPending('bravo'), []);
  assert.deepEqual(states(store, m.id), ['held', 'held']);

  // The reason, when, and the state it returns to, in the status the CLI shows.
  const status = store.get(m.id)!.recipients[0]!.status as OperatorStatus;
  assert.equal(status.status, '4.0.0');
  assert.equal(status.text, 'held by the operator: waiting for the new smarthost');
  assert.equal(status.at, T + 5);
  assert.deepEqual(status.hold, { by: 'operator', reason: 'waiting for the new smarthost', returnTo: 'queued' });

  // list() is the relay's view (queued work); the operator's listing shows held messages too.
  assert.deepEqual(store.list().map((s) => s.id), [other.id]);
  assert.deepEqual(store.operator.list().map((s) => [s.id, s.recipients.map((x) => x.state)]).sort(), [[m.id, ['held', 'held']], [other.id, ['queued']]].sort());

  // Holding again changes nothing; an automatic hold names itself so.
  assert.deepEqual(store.operator.hold(m.id, 'again', T + 6).changed, []);
  const auto = store.operator.hold(other.id, 'no route for example.net', T + 7, 'auto');
  assert.equal(auto.changed.length, 1);
  assert.equal(store.get(other.id)!.recipients[0]!.status!.text, 'held: no route for example.net');
});

test('release makes a held message due now, with its attempts and last status kept', (t) => {
  const store = openStore(t);
  const m = buildMessage({ receivedAt: T, recipients: [smtp('a@example.net'), link('b@base.example')] });
  store.insert(m);
  const failure: DeliveryStatus = { status: '4.4.1', text: 'connection refused', at: T + 1000 };
  store.delivery.record(m.id, 0, { state: 'queued', status: failure, nextAttemptAt: T + 3_600_000 });
  assert.deepEqual(dueIds(store, T + 2000), [], 'retry an hour later');

  store.operator.hold(m.id, '', T + 2000);
  assert.equal(store.get(m.id)!.recipients[0]!.status!.text, 'held by the operator');
  assert.deepEqual((store.get(m.id)!.recipients[0]!.status as OperatorStatus).hold?.previous, failure);

  const r = store.operator.release(m.id, T + 5000);
  assert.deepEqual(r.changed, [{ id: m.id, recipients: ['a@example.net', 'b@base.example'] }]);
  assert.deepEqual(states(store, m.id), ['queued', 'queued']);
  assert.equal(store.delivery.nextDueAt(), T + 5000, 'due at the moment of the release');
  const [due] = store.delivery.due(T + 5000);
  assert.equal(due!.attempts, 1, 'release keeps the attempt count');
  assert.equal(due!.firstAttemptAt, T + 1000);
  assert.deepEqual(due!.recipient.status, failure, 'the status before the hold comes back');
  assert.equal(store.get(m.id)!.recipients[1]!.status, undefined, 'a recipient without a status has none again');
  assert.deepEqual(store.linkPending('bravo'), [m.id]);

  // Nothing held: nothing to release.
  assert.deepEqual(store.operator.release(m.id, T + 6000).changed, []);
});

test('a hold made while an attempt was under way outlasts its "try again"; a final outcome still wins', (t) => {
  const store = openStore(t);
  const m = buildMessage({ receivedAt: T, recipients: [smtp('a@example.net'), smtp('b@example.net')] });
  store.insert(m);
  const [d0, d1] = store.delivery.due(T); // the relay took both for an attempt
  store.operator.hold(m.id, 'stop that', T + 1); // meanwhile the operator holds the message
  store.delivery.record(m.id, d0!.idx, { state: 'queued', status: { status: '4.4.1', text: 'refused', at: T + 2 }, nextAttemptAt: T + 60_000 });
  store.delivery.record(m.id, d1!.idx, { state: 'delivered', status: { status: '2.0.0', text: 'ok', at: T + 2 } });
  assert.deepEqual(states(store, m.id), ['held', 'delivered']);
  assert.equal(store.get(m.id)!.recipients[0]!.status!.text, 'held by the operator: stop that');
  assert.deepEqual(dueIds(store, T + DAY), []);
  store.operator.release(m.id, T + 3);
  assert.deepEqual(store.delivery.due(T + 3).map((d) => [d.idx, d.attempts]), [[0, 1]], 'the attempt counted');
});

test('requeue: queued and held recipients due now, attempts and give-up clock reset; finished ones untouched', (t) => {
  const store = openStore(t);
  const m = buildMessage({ receivedAt: T, recipients: [smtp('a@example.net'), smtp('b@example.org'), smtp('c@example.net', { state: 'delivered', status: { status: '2.0.0', text: 'ok', at: T } })] });
  store.insert(m);
  for (const at of [T + 10, T + 20]) {
    store.delivery.record(m.id, 0, { state: 'queued', status: { status: '4.4.1', text: 'refused', at }, nextAttemptAt: T + DAY });
    store.delivery.record(m.id, 1, { state: 'queued', status: { status: '4.4.1', text: 'refused', at }, nextAttemptAt: T + DAY });
  }
  store.operator.hold({ domain: 'example.org' }, 'x', T + 40);
  assert.deepEqual(states(store, m.id), ['queued', 'held', 'delivered']);

  const r = store.operator.requeue(m.id, T + 100);
  assert.deepEqual(r.changed, [{ id: m.id, recipients: ['a@example.net', 'b@example.org'] }]);
  assert.deepEqual(states(store, m.id), ['queued', 'queued', 'delivered']);
  const due = store.delivery.due(T + 100);
  assert.deepEqual(due.map((d) => [d.idx, d.attempts, d.firstAttemptAt]), [[0, 0, undefined], [1, 0, undefined]]);
  assert.equal(due[1]!.recipient.status!.text, 'refused', 'the status before the hold');
  assert.equal(store.get(m.id)!.recipients[2]!.status!.text, 'ok');
  assertQueueError(() => store.operator.requeue({ state: 'corrupt' }, T), 'bad-selection');
});

test('--all selects by state and by recipient domain (".example.org" takes subdomains), recipient by recipient', (t) => {
  const store = openStore(t);
  const a = buildMessage({ recipients: [smtp('x@Example.NET'), smtp('y@example.org')] });
  const b = buildMessage({ recipients: [smtp('z@mail.example.org'), link('w@base.example')] });
  const c = buildMessage({ recipients: [smtp('v@example.net', { state: 'failed', status: { status: '5.1.1', text: 'no', at: T } })] });
  for (const m of [a, b, c]) store.insert(m);

  const r = store.operator.hold({ domain: 'example.net' }, 'smarthost down', T);
  assert.deepEqual(r.changed, [{ id: a.id, recipients: ['x@Example.NET'] }], 'case-insensitive; the failed recipient is not held');
  assert.deepEqual(states(store, a.id), ['held', 'queued']);

  store.operator.hold({ domain: '.example.org' }, 'maintenance', T);
  assert.deepEqual(states(store, a.id), ['held', 'queued'], 'example.org itself is not a subdomain of .example.org');
  assert.deepEqual(states(store, b.id), ['held', 'queued']);

  store.operator.hold({ domain: 'example.org', state: 'queued' }, '', T);
  assert.deepEqual(states(store, a.id), ['held', 'held']);

  // Release by domain takes only that domain's held recipients.
  store.operator.release({ state: 'held', domain: 'example.net' }, T + 1);
  assert.deepEqual(states(store, a.id), ['queued', 'held']);
  // hold --all: every queued recipient.
  store.operator.hold({}, 'everything stops', T + 2);
  assert.deepEqual([...states(store, a.id), ...states(store, b.id)], ['held', 'held', 'held', 'held']);
  store.operator.release({ state: 'held' }, T + 3);
  assert.deepEqual([...states(store, a.id), ...states(store, b.id), ...states(store, c.id)], ['queued', 'queued', 'queued', 'queued', 'failed']);

  assertQueueError(() => store.operator.hold({ state: 'held' }, '', T), 'bad-selection');
  assertQueueError(() => store.operator.release({ state: 'queued' }, T), 'bad-selection');
  assertQueueError(() => store.operator.hold({ domain: '.' }, '', T), 'bad-selection');
  assertQueueError(() => store.operator.hold('no-such-id', '', T), 'unknown-id', /no message no-such-id/);
  assertQueueError(() => store.operator.delete('no-such-id'), 'unknown-id');
});

test('delete removes the message, its recipients, bundles and received pieces, and keeps what the link took', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const m = buildMessage({ recipients: [link('a@base.example'), smtp('b@example.net', { state: 'delivered', status: { status: '2.0.0', text: 'ok', at: T } })] });
  const keep = buildMessage();
  store.insert(m);
  store.insert(keep);
  store.link.bundle('bravo', m.id, () => new Uint8Array([1, 2, 3]), T);
  store.link.setSentOffset('bravo', m.id, 2);
  store.link.appendReceived('charlie', m.id, 0, new Uint8Array([9, 9]));
  store.link.markDelivered('alpha', m.id); // it came from alpha: a second offer of it must be recognised

  const r = store.operator.delete(m.id);
  assert.deepEqual(r.removed, [
    { id: m.id, size: m.content.byteLength, recipients: [{ address: 'a@base.example', state: 'queued' }, { address: 'b@example.net', state: 'delivered' }], linkBundles: 1, linkReceived: 1 },
  ]);
  assert.equal(store.get(m.id), undefined);
  assert.equal(store.count(), 1);
  assert.deepEqual(store.linkPending('bravo'), []);
  assert.equal(store.link.sentOffset('bravo', m.id), 0);
  assert.equal(store.link.received('charlie', m.id), undefined);
  assert.equal(store.link.isDelivered('alpha', m.id), true, 'link_delivered stays: duplicate suppression');
  const db = rawDb(t, dir);
  assert.equal((db.prepare('SELECT count(*) AS n FROM recipients WHERE message_id = ?').get(m.id) as { n: number }).n, 0);
  assert.ok(store.get(keep.id));
});

test('delete --all removes messages whose unfinished recipients all match; the others are left alone, with why', (t) => {
  const store = openStore(t);
  const only = buildMessage({ recipients: [smtp('a@spam.example'), smtp('b@spam.example', { state: 'failed', status: { status: '5.0.0', text: 'x', at: T } })] });
  const mixed = buildMessage({ recipients: [smtp('c@spam.example'), smtp('d@example.net')] });
  const done = buildMessage({ recipients: [smtp('e@spam.example', { state: 'delivered', status: { status: '2.0.0', text: 'ok', at: T } })] });
  for (const m of [only, mixed, done]) store.insert(m);
  const r = store.operator.delete({ domain: 'spam.example' });
  assert.deepEqual(r.removed.map((x) => x.id), [only.id]);
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0]!.id, mixed.id);
  assert.match(r.skipped[0]!.why, /outside the selection.*d@example\.net/);
  assert.ok(store.get(mixed.id));
  assert.ok(store.get(done.id), 'a finished message is for retention, not for delete --all');

  store.operator.hold(mixed.id, '', T);
  assert.deepEqual(store.operator.delete({ state: 'held' }).removed.map((x) => x.id), [mixed.id]);
});

test('a stored message that cannot be decoded is quarantined: not due, not pending, listed, never purged; released only once repaired', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const bad = buildMessage({ receivedAt: T, recipients: [smtp('a@example.net'), link('b@base.example')] });
  const badRoute = buildMessage({ receivedAt: T, recipients: [smtp('c@example.net')] });
  const good = buildMessage({ receivedAt: T, recipients: [smtp('d@example.net')] });
  for (const m of [bad, badRoute, good]) store.insert(m);
  store.operator.hold(badRoute.id, 'look at it later', T);

  // Damage from outside: a hand edit, a downgrade, a bad disk. One row codec failure, one validation failure.
  const db = rawDb(t, dir);
  const params = (db.prepare('SELECT params FROM messages WHERE id = ?').get(bad.id) as { params: string }).params;
  db.prepare('UPDATE messages SET params = ? WHERE id = ?').run('{"smtputf8": fals', bad.id);
  db.prepare(`UPDATE recipients SET route_kind = 'pigeon' WHERE message_id = ?`).run(badRoute.id);
  assert.throws(() => store.get(bad.id), SyntaxError, 'what the relay would meet');

  const found = store.operator.quarantine(T + 1000);
  assert.deepEqual(found.map((f) => f.id).sort(), [bad.id, badRoute.id].sort());
  assert.match(found.find((f) => f.id === badRoute.id)!.error, /route\.kind/);
  assert.deepEqual(store.operator.quarantine(T + 2000), [], 'found once');

  const rows = db.prepare('SELECT state, status FROM recipients WHERE message_id = ? ORDER BY idx').all(bad.id) as { state: string; status: string }[];
  assert.deepEqual(rows.map((r) => r.state), ['corrupt', 'corrupt']);
  const status = JSON.parse(rows[0]!.status) as OperatorStatus;
  assert.equal(status.status, '4.3.0');
  assert.match(status.text, /^quarantined: the stored message cannot be decoded \(.*JSON/);
  assert.equal(status.quarantine?.returnTo, 'queued');
  const held = JSON.parse((db.prepare('SELECT status FROM recipients WHERE message_id = ?').get(badRoute.id) as { status: string }).status) as OperatorStatus;
  assert.equal(held.quarantine?.returnTo, 'held');

  // Out of everyone's way, the good message still flows.
  assert.deepEqual(dueIds(store, T + DAY), [good.id]);
  assert.deepEqual(store.linkPending('bravo'), []);
  // The operator sees it, as far as it can be read, with the reason.
  const listed = store.operator.list().find((s) => s.id === bad.id)!;
  assert.match(listed.problem!, /JSON/);
  assert.equal(listed.sender, bad.sender);
  assert.deepEqual(listed.recipients.map((r) => [r.address, r.state]), [['a@example.net', 'corrupt'], ['b@base.example', 'corrupt']]);
  // Never purged, however old.
  assert.equal(store.operator.purgeFinished(DAY, T + 365 * DAY).purged, 0);
  assert.ok(store.operator.has(bad.id));
  // Requeue does not touch it; release refuses until it decodes.
  assert.deepEqual(store.operator.requeue(bad.id, T).changed, []);
  assertQueueError(() => store.operator.release(bad.id, T + 3000), 'corrupt-message', /still cannot be decoded/);
  assert.deepEqual(store.operator.release({ state: 'corrupt' }, T + 3000).changed, []);

  db.prepare('UPDATE messages SET params = ? WHERE id = ?').run(params, bad.id);
  const r = store.operator.release(bad.id, T + 4000);
  assert.deepEqual(r.changed, [{ id: bad.id, recipients: ['a@example.net', 'b@base.example'] }]);
  assert.deepEqual(states(store, bad.id), ['queued', 'queued']);
  assert.equal(store.get(bad.id)!.recipients[0]!.status, undefined, 'the status it had before (none)');
  assert.deepEqual(dueIds(store, T + 4000).sort(), [bad.id, good.id].sort());
  assert.deepEqual(store.linkPending('bravo'), [bad.id]);
  // The one with a bad route is deleted instead.
  assert.deepEqual(store.operator.delete({ state: 'corrupt' }).removed.map((m) => m.id), [badRoute.id]);
});

test('purgeFinished deletes finished messages past retention in batches, and keeps unfinished and recent ones', (t) => {
  const store = openStore(t);
  const now = T + 30 * DAY;
  const final = (state: 'delivered' | 'failed' | 'redirected', at: number) => ({ state, status: { status: state === 'delivered' ? '2.0.0' : '5.0.0', text: state, at } });
  const old: QueuedMessage[] = [];
  for (let i = 0; i < 5; i++) old.push(buildMessage({ receivedAt: T, recipients: [smtp(`o${i}@example.net`, final('delivered', T + DAY))] }));
  const mixedFinal = buildMessage({ receivedAt: T, recipients: [smtp('a@x.org', final('failed', T)), smtp('b@x.org', final('redirected', T))] });
  const recentOutcome = buildMessage({ receivedAt: T, recipients: [smtp('c@x.org', final('delivered', now - DAY))] }); // received long ago, finished yesterday
  const recent = buildMessage({ receivedAt: now - DAY, recipients: [smtp('d@x.org', final('delivered', now - DAY))] });
  const unfinished = buildMessage({ receivedAt: T, recipients: [smtp('e@x.org', final('delivered', T)), smtp('f@x.org')] });
  const heldOld = buildMessage({ receivedAt: T, recipients: [smtp('g@x.org')] });
  for (const m of [...old, mixedFinal, recentOutcome, recent, unfinished, heldOld]) store.insert(m);
  store.operator.hold(heldOld.id, 'forever', T);
  for (const m of old) store.link.markDelivered('alpha', m.id);

  const first = store.operator.purgeFinished(7 * DAY, now, { batchSize: 2, maxBatches: 1 });
  assert.deepEqual(first, { purged: 2, more: true });
  const rest = store.operator.purgeFinished(7 * DAY, now, { batchSize: 2 });
  assert.deepEqual(rest, { purged: 4, more: false }, 'three more old ones and the mixed final one, in batches of two');
  for (const m of [...old, mixedFinal]) assert.equal(store.get(m.id), undefined);
  for (const m of [recentOutcome, recent, unfinished, heldOld]) assert.ok(store.get(m.id), m.recipients[0]!.address);
  for (const m of old) assert.equal(store.link.isDelivered('alpha', m.id), true, 'duplicate suppression outlives the message');
  assert.deepEqual(store.operator.purgeFinished(7 * DAY, now), { purged: 0, more: false });
  // Retention 0: whatever is finished goes.
  assert.equal(store.operator.purgeFinished(0, now + 1).purged, 2);
  assert.deepEqual(store.operator.list().map((m) => m.id).sort(), [unfinished.id, heldOld.id].sort());
});

test('data_version changes when another connection commits, not for our own commits', (t) => {
  const dir = tempDir(t);
  const gateway = openStore(t, dir);
  const cli = openStore(t, dir);
  const v0 = gateway.operator.dataVersion();
  gateway.insert(buildMessage());
  assert.equal(gateway.operator.dataVersion(), v0);
  const m = buildMessage();
  cli.insert(m);
  const v1 = gateway.operator.dataVersion();
  assert.notEqual(v1, v0);
  cli.operator.hold(m.id, '', T);
  assert.notEqual(gateway.operator.dataVersion(), v1);
});

/** A clock whose timers run when the test says so. */
function manualClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  let timers: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    now: () => now,
    setTimer(ms, fn): Timer {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        next.live = false;
        now = next.at;
        next.fn();
      }
      timers = timers.filter((t) => t.live);
      now = until;
    },
  };
}

test('housekeeping: quarantine and purge at start and hourly, and a change by another process reported within the poll', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const now = T + 30 * DAY;
  const done = [1, 2].map(() => buildMessage({ receivedAt: T, recipients: [smtp('a@x.org', { state: 'delivered', status: { status: '2.0.0', text: 'ok', at: T } })] }));
  const broken = buildMessage({ receivedAt: T });
  for (const m of [...done, broken]) store.insert(m);
  const db = rawDb(t, dir);
  db.prepare('UPDATE messages SET submitter = ? WHERE id = ?').run('not json', broken.id);

  const clock = manualClock(now);
  let changes = 0;
  const hk = startHousekeeping({ store, clock, log: pino({ level: 'silent' }), deliveredDays: 7, onExternalChange: () => changes++, batchSize: 1 });
  t.after(() => hk.stop());
  assert.equal(done.filter((m) => store.get(m.id)).length, 1, 'a purge batch at a time, the rest after the event loop ran');
  clock.advance(0);
  assert.equal(done.filter((m) => store.get(m.id)).length, 0, 'purged at start');
  assert.equal((db.prepare('SELECT state FROM recipients WHERE message_id = ?').get(broken.id) as { state: string }).state, 'corrupt', 'quarantined at start');

  clock.advance(10_000);
  assert.equal(changes, 0, 'our own writes are not a change by another process');
  const cli = openStore(t, dir);
  const later = buildMessage({ receivedAt: now });
  cli.insert(later);
  clock.advance(2000);
  assert.equal(changes, 1);
  clock.advance(10_000);
  assert.equal(changes, 1);

  // An hour on, what finished meanwhile and is past retention goes.
  const finishedLate = buildMessage({ receivedAt: T, recipients: [smtp('b@x.org', { state: 'failed', status: { status: '5.0.0', text: 'no', at: T } })] });
  store.insert(finishedLate);
  clock.advance(3_600_000);
  assert.equal(store.get(finishedLate.id), undefined);
  assert.ok(store.get(later.id));

  hk.stop();
  cli.insert(buildMessage());
  clock.advance(3_600_000);
  assert.equal(changes, 1, 'stopped: no more polls');
});

test('quarantine scans a page at a time in id order: a damaged message on a later page is found, each page bounded', (t) => {
  const dir = tempDir(t);
  const store = openStore(t, dir);
  const messages = Array.from({ length: 7 }, () => buildMessage({ receivedAt: T, recipients: [smtp('a@example.net')] }));
  for (const m of messages) store.insert(m);
  const ids = messages.map((m) => m.id).sort();
  rawDb(t, dir).prepare('UPDATE messages SET params = ? WHERE id = ?').run('{"smtputf8": fals', ids[5]!);

  const pages: string[][] = [];
  let after = '';
  for (;;) {
    const page = store.operator.quarantinePage(T + 1000, after, 3);
    pages.push(page.found.map((f) => f.id));
    if (page.next === undefined) break;
    after = page.next;
  }
  assert.deepEqual(pages, [[], [ids[5]], []], 'three pages of at most 3, the damaged one found on the second');
  assert.equal(store.operator.quarantinePage(T + 2000, '', 100).found.length, 0, 'found once');
});
