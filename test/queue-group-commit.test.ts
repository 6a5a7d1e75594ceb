import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit, isQueueError, type BatchableStore } from '../src/queue/index.ts';
import type { QueuedMessage } from '../src/core/index.ts';
import { openStore } from './support/temp-store.ts';
import { buildMessage } from './support/messages.ts';

/** The real store, counting outer transactions and noting whether any promise settled inside one. */
function counting(store: BatchableStore, settled: { inCommit: boolean }) {
  let commits = 0;
  const wrapped: BatchableStore = {
    insert: (m) => store.insert(m),
    transaction: (fn) => {
      commits++;
      settled.inCommit = true;
      try {
        return store.transaction(fn);
      } finally {
        settled.inCommit = false;
      }
    },
  };
  return { wrapped, commits: () => commits };
}

test('group commit: messages that end in the same turn share one transaction; each resolves after it', async (t) => {
  const store = openStore(t);
  const settled = { inCommit: false };
  const { wrapped, commits } = counting(store, settled);
  const group = new GroupCommit(wrapped);
  const messages = Array.from({ length: 20 }, () => buildMessage());
  const done = messages.map((m) =>
    group.insert(m).then(() => {
      assert.equal(settled.inCommit, false, 'resolved before the commit returned');
      assert.ok(store.get(m.id), 'resolved but not stored');
    }),
  );
  await Promise.all(done);
  assert.equal(commits(), 1);
  assert.equal(store.count(), 20);
});

test('group commit: a refused message (duplicate id) fails alone, the rest of its batch is stored', async (t) => {
  const store = openStore(t);
  const first = buildMessage();
  store.insert(first);
  const group = new GroupCommit(store);
  const others = [buildMessage(), buildMessage()];
  const results = await Promise.allSettled([group.insert(others[0]!), group.insert({ ...first }), group.insert(others[1]!)]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  const reason = (results[1] as PromiseRejectedResult).reason;
  assert.ok(isQueueError(reason) && reason.code === 'duplicate-id');
  assert.equal(store.count(), 3);
});

test('group commit: a full disk fails the whole batch with disk-full and stores none of it', async (t) => {
  const store = openStore(t);
  let n = 0;
  const failing: BatchableStore = {
    insert: (m: QueuedMessage) => {
      if (++n === 2) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      store.insert(m);
    },
    transaction: (fn) => store.transaction(fn),
  };
  const group = new GroupCommit(failing);
  const results = await Promise.allSettled([group.insert(buildMessage()), group.insert(buildMessage()), group.insert(buildMessage())]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    const reason = (r as PromiseRejectedResult).reason;
    assert.ok(isQueueError(reason) && reason.code === 'disk-full', String(reason));
  }
  assert.equal(store.count(), 0, 'part of a failed batch was stored');
});

test('group commit: a batch is cut at maxBatch so one commit never holds the loop for the whole backlog', async (t) => {
  const store = openStore(t);
  const settled = { inCommit: false };
  const { wrapped, commits } = counting(store, settled);
  const group = new GroupCommit(wrapped, 4);
  await Promise.all(Array.from({ length: 10 }, () => group.insert(buildMessage())));
  assert.equal(commits(), 3);
  assert.equal(store.count(), 10);
});
