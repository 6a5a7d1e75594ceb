// Resume with the progress kept in the queue's database, as a restarted process finds it: the sender comes
// back with a fresh LinkStation and a freshly opened store, and sends only what was not acknowledged.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LinkStation, MemoryOutbound, MemoryProgressStore } from '../src/link/index.ts';
import { MessageStore } from '../src/queue/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';

test('a restarted sender resumes from the acknowledged offset kept in SQLite: retransmission well under the message', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-resume-'));
  try {
    const clock = new VirtualClock();
    const ch = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500 }, clock, new SeededRandom(3));
    const opts = { key: new Uint8Array(32).fill(9), duplex: 'half', bitRate: 2400, turnaroundMs: 1500, maxFrame: 256, window: 64, maxOverMs: 10_000 } as const;
    const big = new SeededRandom(4).bytes(60_000); // 200 s of air: many overs
    let store = MessageStore.open(dir);
    // the bundle as the queue would keep it for the link
    store.link.bundle('bravo', 'big', () => big, clock.now());
    const out = new MemoryOutbound();
    out.add({ id: 'big', priority: 0, queuedAt: clock.now(), bundle: () => store.link.bundle('bravo', 'big', () => big, clock.now()) });
    const got = new Map<string, Uint8Array>();
    const bravo = new LinkStation({ ...opts, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: new SeededRandom(5), port: ch.b, source: new MemoryOutbound(), sink: { accept: async (id, b) => void got.set(id, b) }, progress: new MemoryProgressStore() });
    bravo.start();
    let alpha = new LinkStation({ ...opts, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: new SeededRandom(6), port: ch.a, source: out, sink: { accept: async () => undefined }, progress: store.link });
    alpha.start();
    await clock.runUntil(clock.now() + 90_000);
    alpha.stop();
    store.close();
    // the process is gone; a new one opens the database
    store = MessageStore.open(dir);
    const acked = store.link.sentOffset('bravo', 'big');
    assert.ok(acked > 10_000 && acked < big.length, `acknowledged ${acked} of ${big.length}`);
    alpha = new LinkStation({ ...opts, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: new SeededRandom(7), port: ch.a, source: out, sink: { accept: async () => undefined }, progress: store.link });
    alpha.start();
    await clock.runUntil(clock.now() + 900_000);
    assert.ok(Buffer.from(got.get('big')!).equals(Buffer.from(big)));
    const resent = alpha.sender.stats.dataBytes - (big.length - acked);
    assert.ok(resent < 3000, `after the restart ${resent} bytes went again (the message is ${big.length})`);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deadlines never grow across the hop: the OPEN counts the age from when the bundle was made, also after a restart, and its flight', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-age-'));
  try {
    const clock = new VirtualClock();
    const ch = createChannel({ bitRate: 300, duplex: 'half', turnaroundMs: 2000 }, clock, new SeededRandom(3));
    const opts = { key: new Uint8Array(32).fill(9), duplex: 'half', bitRate: 300, turnaroundMs: 2000, maxFrame: 256, window: 16, maxOverMs: 10_000 } as const;
    const store = MessageStore.open(dir);
    const madeAt = clock.now();
    store.link.bundle('bravo', 'm1', () => new SeededRandom(4).bytes(2000), madeAt);
    // The process that made it died; ten minutes later a new one finds the bundle and when it was made.
    await clock.runUntil(clock.now() + 600_000);
    const out = new MemoryOutbound();
    out.add({ id: 'm1', priority: 0, queuedAt: madeAt, bundle: () => store.link.bundle('bravo', 'm1', () => new Uint8Array(), clock.now()), madeAt: store.link.madeAt('bravo', 'm1')! });
    const opened: number[] = [];
    const bravo = new LinkStation({ ...opts, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: new SeededRandom(5), port: ch.b, source: new MemoryOutbound(), sink: { accept: async (_id, _b, at) => void opened.push(at) }, progress: new MemoryProgressStore() });
    const alpha = new LinkStation({ ...opts, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: new SeededRandom(6), port: ch.a, source: out, sink: { accept: async () => undefined }, progress: store.link });
    bravo.start();
    alpha.start();
    await clock.runUntil(clock.now() + 300_000);
    assert.equal(opened.length, 1);
    // At 300 bit/s a 256-byte frame is 7 s on the air and the key-up 2 s: counted, the receiver's anchor is not later than the making.
    assert.ok(opened[0]! <= madeAt && opened[0]! > madeAt - 1000, `anchored ${opened[0]! - madeAt} ms from when the bundle was made`);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bundle made against a session history is kept as the record that the message went on the air, and made again when asked without one', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-session-bundle-'));
  try {
    let store = MessageStore.open(dir);
    const a = Uint8Array.of(1, 2, 3);
    const b = Uint8Array.of(4, 5, 6, 7);
    store.link.sessionBundle('bravo', 'm1', a, 1_000);
    store.link.setSentOffset('bravo', 'm1', 2);
    assert.equal(store.link.madeAt('bravo', 'm1'), 1_000, 'it went on the air at 1 s');
    store.close();
    store = MessageStore.open(dir); // a restart keeps that record
    assert.equal(store.link.madeAt('bravo', 'm1'), 1_000);
    assert.equal(store.link.sentOffset('bravo', 'm1'), 2);
    // Asked without a history (a new session): never the session's bytes, a new bundle, from its first byte.
    assert.deepEqual([...store.link.bundle('bravo', 'm1', () => b, 5_000)], [...b]);
    assert.equal(store.link.sentOffset('bravo', 'm1'), 0);
    assert.equal(store.link.madeAt('bravo', 'm1'), 5_000);
    // That one is kept as any other: asked again, the same bytes.
    assert.deepEqual([...store.link.bundle('bravo', 'm1', () => a, 9_000)], [...b]);
    // Made against a history again: it replaces what was kept.
    store.link.sessionBundle('bravo', 'm1', a, 12_000);
    assert.deepEqual([...store.link.bundle('bravo', 'm1', () => Uint8Array.of(9), 13_000)], [9]);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
