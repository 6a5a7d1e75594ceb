// `hfmail queue` and `hfmail status` on a long queue: pages, --limit, streamed JSON, counts from aggregates.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { MessageStore } from '../src/queue/index.ts';
import { HFMAIL_BIN } from './support/gateway-process.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';

const run = promisify(execFile);
const hfmail = async (...args: string[]) => (await run(process.execPath, [HFMAIL_BIN, ...args], { timeout: 60_000, maxBuffer: 64 << 20 })).stdout;

describe('listing a queue longer than one page', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-cli-queue-'));
  const data = path.join(dir, 'data');
  const N = 1234; // more than two pages of 500
  const messages = Array.from({ length: N }, (_, i) =>
    buildMessage({
      receivedAt: 1_800_000_000_000 + i,
      priority: { value: (i % 7) - 3, source: 'mt-priority', requested: (i % 7) - 3 },
      content: Buffer.from(`Subject: ${i}\r\n\r\n${'x'.repeat(i % 97)}\r\n`),
      recipients: [buildRecipient({ address: `r${i}@example.org`, route: { kind: 'smtp', target: '127.0.0.1:9' } })],
    }),
  );
  // Sending order: priority down, then (no deadlines) smallest, then oldest, then id.
  const expected = [...messages]
    .sort((a, b) => b.priority.value - a.priority.value || a.content.length - b.content.length || a.receivedAt - b.receivedAt || (a.id < b.id ? -1 : 1))
    .map((m) => m.id);

  before(() => {
    const store = MessageStore.open(data);
    store.transaction(() => {
      for (const m of messages) store.insert(m);
    });
    store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the paged listing gives every message once, in sending order, across page boundaries', () => {
    const store = MessageStore.open(data);
    try {
      assert.deepEqual([...store.operator.iterate()].map((m) => m.id), expected);
      assert.deepEqual([...store.operator.iterate(501)].map((m) => m.id), expected.slice(0, 501));
      assert.equal(store.operator.unfinishedCount(), N);
      const byPriority = store.operator.queuedByPriority();
      for (let p = -3; p <= 3; p++) assert.equal(byPriority.get(p), messages.filter((m) => m.priority.value === p).length);
    } finally {
      store.close();
    }
  });

  test('hfmail queue --json streams one valid array of every message; --limit N gives the first N', async () => {
    const all = JSON.parse(await hfmail('queue', '--data', data, '--json')) as { id: string }[];
    assert.deepEqual(all.map((e) => e.id), expected);
    const first = JSON.parse(await hfmail('queue', '--data', data, '--json', '--limit', '3')) as { id: string }[];
    assert.deepEqual(first.map((e) => e.id), expected.slice(0, 3));
    const text = await hfmail('queue', '--data', data, '--limit', '2');
    assert.match(text, new RegExp(`^${expected[0]}  prio \\+3 `));
    assert.match(text, new RegExp(`\\n2 of ${N} message\\(s\\) shown \\(--limit\\)\\n$`));
  });

  test('hfmail status counts the queue per priority from an aggregate', async () => {
    const status = JSON.parse(await hfmail('status', '--data', data, '--json')) as { queue: { total: number; byPriority: Record<string, number> } };
    assert.equal(status.queue.total, N);
    assert.deepEqual(Object.keys(status.queue.byPriority).map((k) => Number(k.split(' ')[0])), [3, 2, 1, 0, -1, -2, -3]);
  });
});
