import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type {
  Deadline,
  NotifyCondition,
  PrioritySource,
  QueuedMessage,
  RecipientState,
  RouteKind,
} from '../src/core/index.ts';
import { MessageStore, QueueError, QUEUE_DB_FILE } from '../src/queue/index.ts';
import { openStore, tempDir as tempDirOf } from './support/temp-store.ts';
import { buildMessage, buildRecipient, deterministicMessage } from './support/messages.ts';

const tempDir = (t: TestContext) => tempDirOf(t, 'hfmail-queue-');

/** deepStrictEqual compares prototypes, so compare contents as Buffers whatever the caller passed in. */
function normalise(msg: QueuedMessage | undefined): unknown {
  return msg === undefined ? undefined : { ...msg, content: Buffer.from(msg.content) };
}

function assertRoundTrip(store: MessageStore, msg: QueuedMessage): void {
  store.insert(msg);
  assert.deepStrictEqual(normalise(store.get(msg.id)), normalise(msg));
}

function assertQueueError(fn: () => void, code: QueueError['code']): void {
  assert.throws(fn, (err: unknown) => err instanceof QueueError && err.code === code);
}

test('round trip of a rich message and of a minimal one', (t) => {
  const store = openStore(t);
  const rich = buildMessage({
    sender: 'ops@hq.example.mil',
    priority: { value: 6, source: 'draft-priority', requested: 55 },
    params: {
      envid: 'QQ314159',
      ret: 'HDRS',
      body: '8BITMIME',
      smtputf8: true,
      size: 123_456,
      by: { at: 1_736_942_460_000, mode: 'R', trace: true, requestedSeconds: 60 },
      aby: { at: 1_736_942_430_000, mode: 'N', trace: false, requestedSeconds: 30 },
    },
    recipients: [
      buildRecipient({ address: 'a@ship.example', notify: null, route: { kind: 'link', target: 'SHIP1' } }),
      buildRecipient({
        address: 'b@example.org',
        notify: 'NEVER',
        orcpt: { type: 'rfc822', address: 'b+orig@example.org' },
        route: { kind: 'mx', target: '' },
      }),
      buildRecipient({
        address: 'jürgen@例え.jp',
        notify: ['SUCCESS', 'FAILURE'],
        orcpt: { type: 'utf-8', address: 'jürgen@例え.jp' },
        arcpt: { type: 'rfc822', address: 'duty-officer@example.org' },
        route: { kind: 'lmtp', target: '127.0.0.1:24' },
        state: 'failed',
        status: {
          status: '5.1.1',
          text: 'mailbox unknown',
          at: 1_736_942_410_000,
          remoteReply: '550 5.1.1 <jürgen@例え.jp>: no such user',
          remoteMta: 'mx.例え.jp',
        },
      }),
    ],
    submitter: { clientAddress: '2001:db8::1', clientHostname: 'hq.example.mil', helo: 'hq', user: 'ops', trusted: true },
  });
  assertRoundTrip(store, rich);

  const minimal = buildMessage({ sender: '', params: { smtputf8: false } });
  assertRoundTrip(store, minimal);
  const got = store.get(minimal.id)!;
  // Absent stays absent: no keys holding undefined.
  assert.deepStrictEqual(Object.keys(got.params), ['smtputf8']);
  assert.deepStrictEqual(Object.keys(got.priority).sort(), ['source', 'value']);
  assert.deepStrictEqual(Object.keys(got.recipients[0]!).sort(), ['address', 'notify', 'route', 'state']);
  assert.equal(got.sender, '');
  assert.equal(store.get('no-such-id'), undefined);
});

test('binary content comes back byte-exact', (t) => {
  const store = openStore(t);
  const bytes = [...Array.from({ length: 256 }, (_, i) => i), 13, 10, 0, 13, 13, 10, 46, 13, 10, 0, 0, 255];
  // A view into a larger buffer: only the viewed bytes may be stored.
  const backing = new Uint8Array([0xaa, 0xbb, ...bytes, 0xcc]);
  const content = backing.subarray(2, 2 + bytes.length);
  const msg = buildMessage({ content });
  store.insert(msg);
  const got = store.get(msg.id)!;
  assert.equal(got.content.byteLength, bytes.length);
  assert.deepStrictEqual([...got.content], bytes);
  assert.equal(store.list().find((s) => s.id === msg.id)?.size, bytes.length);

  const empty = buildMessage({ content: new Uint8Array(0) });
  store.insert(empty);
  assert.equal(store.get(empty.id)!.content.byteLength, 0);
});

test('list() orders by priority, deadline, size, arrival, id and skips finished messages', (t) => {
  const store = openStore(t);
  const T = 1_736_942_400_000;
  const deadline = (at: number): Deadline => ({ at, mode: 'N', trace: false, requestedSeconds: 60 });
  const row = (
    id: string,
    value: number,
    size: number,
    opts: { by?: number; aby?: number; receivedAt?: number; states?: RecipientState[] } = {},
  ): QueuedMessage =>
    buildMessage({
      id,
      priority: { value, source: 'mt-priority' },
      receivedAt: opts.receivedAt ?? T,
      params: {
        smtputf8: false,
        ...(opts.by === undefined ? {} : { by: deadline(opts.by) }),
        ...(opts.aby === undefined ? {} : { aby: deadline(opts.aby) }),
      },
      recipients: (opts.states ?? ['queued']).map((state, i) => buildRecipient({ address: `r${i}@x.org`, state })),
      content: new Uint8Array(size),
    });
  const table = [
    row('done-delivered', 9, 10, { states: ['delivered'] }),
    row('done-mixed-final', 9, 10, { states: ['failed', 'redirected', 'delivered'] }),
    row('p9-partly-done', 9, 500, { states: ['delivered', 'queued'] }),
    row('p5-by1000', 5, 10, { by: T + 1000 }),
    row('p5-aby500', 5, 10, { aby: T + 500 }),
    row('p5-by2000-aby400', 5, 10, { by: T + 2000, aby: T + 400 }), // the earlier of the two counts
    row('p5-by1000-big', 5, 900, { by: T + 1000 }),
    row('p5-none-size100-b', 5, 100),
    row('p5-none-size100-a', 5, 100), // same as -b but for the id
    row('p5-none-size100-early', 5, 100, { receivedAt: T - 1 }),
    row('p5-none-size50', 5, 50),
    row('p0-by100', 0, 10, { by: T + 100 }),
    row('p0-none', 0, 1),
    row('m3-late-deadline', -3, 10, { by: T + 99_999 }),
    row('m9-tiny', -9, 0),
  ];
  // Insert in reverse so that insertion order cannot produce the expected order by accident.
  for (const msg of [...table].reverse()) store.insert(msg);

  const listed = store.list();
  assert.deepStrictEqual(
    listed.map((s) => s.id),
    [
      'p9-partly-done',
      'p5-by2000-aby400',
      'p5-aby500',
      'p5-by1000',
      'p5-by1000-big',
      'p5-none-size50',
      'p5-none-size100-early',
      'p5-none-size100-a',
      'p5-none-size100-b',
      'p0-by100',
      'p0-none',
      'm3-late-deadline',
      'm9-tiny',
    ],
  );
  assert.equal(store.count(), table.length, 'count() includes finished messages');

  // A summary is the message without its content, recipients included, size in bytes.
  const partly = listed[0]!;
  const { content, ...expected } = table[2]!;
  assert.deepStrictEqual(partly, { ...expected, size: content.byteLength });
  assert.equal('content' in partly, false);
});

test('data survives reopening, and a second store on the same directory can read', (t) => {
  const dir = tempDir(t);
  const first = MessageStore.open(dir);
  const a = buildMessage();
  first.insert(a);
  first.close();

  const gateway = openStore(t, dir);
  assert.deepStrictEqual(normalise(gateway.get(a.id)), normalise(a));
  assert.equal(gateway.count(), 1);

  // The CLI opening the queue while the gateway has it open, and seeing the gateway's later commits.
  const cli = openStore(t, dir);
  assert.deepStrictEqual(normalise(cli.get(a.id)), normalise(a));
  const b = buildMessage({ priority: { value: 3, source: 'header' } });
  gateway.insert(b);
  assert.deepStrictEqual(
    cli.list().map((s) => s.id),
    [b.id, a.id],
  );
  assert.equal(cli.count(), 2);
});

test('a queue at schema 3 keeps its link progress through migrations 4 and 5 (received prefix, making time, kept bundles)', (t) => {
  const dir = tempDir(t);
  const first = MessageStore.open(dir);
  const m = buildMessage();
  first.insert(m);
  first.close();
  // Put the file back into the shape schema 3 left it in, holding a partial transfer and a made bundle.
  const db = new Database(join(dir, QUEUE_DB_FILE));
  db.exec(`
    DROP TABLE link_received;
    ALTER TABLE link_bundles DROP COLUMN session_bound;
    ALTER TABLE link_bundles DROP COLUMN made_at;
    CREATE TABLE link_partial (peer TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (peer, id)) STRICT;
  `);
  db.prepare('INSERT INTO link_partial (peer, id, data) VALUES (?, ?, ?)').run('bravo', 'in-1', Buffer.from('first 17 bytes..'));
  db.prepare('INSERT INTO link_bundles (peer, id, bundle) VALUES (?, ?, ?)').run('bravo', m.id, Buffer.from('bundle'));
  db.pragma('user_version = 3');
  db.close();

  const store = openStore(t, dir);
  assert.equal(Buffer.from(store.link.received('bravo', 'in-1')!).toString(), 'first 17 bytes..');
  store.link.appendReceived('bravo', 'in-1', 16, Buffer.from('and on'));
  assert.equal(Buffer.from(store.link.received('bravo', 'in-1')!).toString(), 'first 17 bytes..and on');
  // The receipt is a lower bound of when the bundle was made: its deadlines can only shrink.
  assert.equal(store.link.madeAt('bravo', m.id), m.receivedAt);
  // A bundle kept from before is context-free (migration 5): sent as it is.
  assert.equal(Buffer.from(store.link.bundle('bravo', m.id, () => Buffer.from('new'), 0)).toString(), 'bundle');
});

test('invalid and duplicate messages are rejected and leave nothing behind', (t) => {
  const store = openStore(t);
  const original = buildMessage();
  store.insert(original);

  assertQueueError(() => store.insert(buildMessage({ id: original.id, sender: 'other@x.org' })), 'duplicate-id');
  assertQueueError(() => store.insert(buildMessage({ recipients: [] })), 'invalid-message');
  assertQueueError(() => store.insert(buildMessage({ priority: { value: 10, source: 'policy' } })), 'invalid-message');
  assertQueueError(() => store.insert(buildMessage({ id: '' })), 'invalid-message');
  assertQueueError(() => store.insert(buildMessage({ sender: 'bad\uD800@x.org' })), 'invalid-message');
  // A bad recipient after a good one: the message row must not be written on its own.
  const badSecond = buildMessage({
    recipients: [buildRecipient(), buildRecipient({ state: 'lost' as RecipientState })],
  });
  assertQueueError(() => store.insert(badSecond), 'invalid-message');

  assert.equal(store.count(), 1);
  assert.equal(store.get(badSecond.id), undefined);
  assert.deepStrictEqual(normalise(store.get(original.id)), normalise(original));
});

test('property: any valid message survives insert then get unchanged', (t) => {
  const store = openStore(t);
  // deepStrictEqual compares prototypes; the store returns ordinary objects.
  const plain = { noNullPrototype: true } as const;
  const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary-ascii', maxLength: 12 }));
  const nonEmpty = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }),
  );
  const time = fc.maxSafeNat();
  const deadline = fc.record({
    at: time,
    mode: fc.constantFrom('R' as const, 'N' as const),
    trace: fc.boolean(),
    requestedSeconds: fc.integer({ min: -999_999_999, max: 999_999_999 }),
  }, plain);
  const typedAddress = fc.record({ type: fc.constantFrom('rfc822', 'utf-8', 'x400'), address: text }, plain);
  const conditions: NotifyCondition[] = ['SUCCESS', 'FAILURE', 'DELAY'];
  const recipient = fc.record(
    {
      address: nonEmpty,
      notify: fc.oneof(fc.constant(null), fc.constant('NEVER' as const), fc.shuffledSubarray(conditions)),
      orcpt: typedAddress,
      arcpt: typedAddress,
      route: fc.record({
        kind: fc.constantFrom<RouteKind>('maildir', 'lmtp', 'smtp', 'mx', 'link'),
        target: text,
      }, plain),
      state: fc.constantFrom<RecipientState>('queued', 'delivered', 'failed', 'redirected'),
      status: fc.record(
        { status: text, text, at: time, remoteReply: text, remoteMta: text },
        { ...plain, requiredKeys: ['status', 'text', 'at'] },
      ),
    },
    { ...plain, requiredKeys: ['address', 'notify', 'route', 'state'] },
  );
  const message = fc.record({
    id: nonEmpty,
    receivedAt: time,
    sender: text,
    params: fc.record(
      {
        envid: text,
        ret: fc.constantFrom('FULL' as const, 'HDRS' as const),
        body: fc.constantFrom('7BIT' as const, '8BITMIME' as const),
        smtputf8: fc.boolean(),
        size: fc.maxSafeNat(),
        by: deadline,
        aby: deadline,
      },
      { ...plain, requiredKeys: ['smtputf8'] },
    ),
    priority: fc.record(
      {
        value: fc.integer({ min: -9, max: 9 }),
        source: fc.constantFrom<PrioritySource>('mt-priority', 'draft-priority', 'header', 'policy'),
        requested: fc.integer({ min: -99, max: 99 }),
      },
      { ...plain, requiredKeys: ['value', 'source'] },
    ),
    recipients: fc.array(recipient, { minLength: 1, maxLength: 5 }),
    submitter: fc.record(
      { clientAddress: text, clientHostname: text, helo: text, user: text, trusted: fc.boolean() },
      { ...plain, requiredKeys: ['clientAddress', 'clientHostname', 'helo', 'trusted'] },
    ),
    content: fc.uint8Array({ maxLength: 4096 }),
  }, plain);

  let run = 0;
  fc.assert(
    fc.property(message, (generated) => {
      const msg: QueuedMessage = { ...generated, id: `${run++}:${generated.id}` }; // one store, unique ids
      assertRoundTrip(store, msg);
    }),
    { numRuns: 100 },
  );
});

test('crash safety: every id printed by a SIGKILLed writer is stored completely', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const root = fileURLToPath(new URL('..', import.meta.url));
  const script = fileURLToPath(new URL('./support/queue-writer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const printed: string[] = [];
  let stderr = '';
  let partial = '';
  let killTimer: NodeJS.Timeout | undefined;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  child.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!; // an id cut off by the kill was not fully printed: not a promise
    printed.push(...lines);
    if (printed.length >= 20 && killTimer === undefined) {
      killTimer = setTimeout(() => child.kill('SIGKILL'), 200);
    }
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (_code, sig) => resolve(sig));
  });
  clearTimeout(killTimer);
  assert.equal(signal, 'SIGKILL', `writer should have been killed, not exited; stderr:\n${stderr}`);
  assert.ok(printed.length >= 20, `only ${printed.length} ids printed`);

  // Check the file itself before the store opens it.
  const raw = new Database(join(dir, QUEUE_DB_FILE));
  const integrity = raw.pragma('integrity_check', { simple: true });
  const foreignKeyProblems = raw.pragma('foreign_key_check');
  const storedIds = raw.prepare<[], { id: string }>('SELECT id FROM messages ORDER BY id').all().map((r) => r.id);
  raw.close();
  t.diagnostic(`${printed.length} ids printed before the kill, ${storedIds.length} messages stored`);
  assert.equal(integrity, 'ok');
  assert.deepStrictEqual(foreignKeyProblems, []);

  // Commits are sequential, so what is stored is a prefix of the sequence, covering all that was printed.
  assert.ok(storedIds.length >= printed.length, `${storedIds.length} stored, ${printed.length} printed`);
  assert.deepStrictEqual(
    storedIds,
    storedIds.map((_, i) => deterministicMessage(i).id),
  );
  assert.deepStrictEqual(printed, storedIds.slice(0, printed.length));

  // Every stored message is complete: all recipients, every content byte.
  const store = openStore(t, dir);
  storedIds.forEach((id, i) => {
    assert.deepStrictEqual(normalise(store.get(id)), normalise(deterministicMessage(i)), `message ${id}`);
  });
});
