// One contract suite per store interface the link declares, run against each implementation: the in-memory ones
// the simulator and tests use, and the queue's SQLite ones the gateway uses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { MemoryOutbound, MemoryProgressStore, type OutboundItem, type OutboundSource, type ProgressStore } from '../src/link/index.ts';
import { LinkOutbound, MessageStore } from '../src/queue/index.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';

const dirs: string[] = [];
const stores: MessageStore[] = [];
after(() => {
  for (const s of stores) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function sqlite(): MessageStore {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-contract-'));
  dirs.push(dir);
  const s = MessageStore.open(dir);
  stores.push(s);
  return s;
}

const progressStores: [string, () => ProgressStore & { bundle?: unknown }][] = [
  ['in memory (MemoryProgressStore)', () => new MemoryProgressStore()],
  ['SQLite (the queue: LinkState)', () => {
    const s = sqlite();
    // The sender's offset lives with the stored bundle: a transfer has one once it has opened.
    s.link.bundle('bravo', 'm1', () => new Uint8Array(100), Date.now());
    return s.link;
  }],
];

for (const [name, make] of progressStores) {
  describe(`ProgressStore contract: ${name}`, () => {
    test('the sender offset: 0 until set, then what was set; forget resets it', () => {
      const p = make();
      assert.equal(p.sentOffset('bravo', 'm1'), 0);
      p.setSentOffset('bravo', 'm1', 64);
      assert.equal(p.sentOffset('bravo', 'm1'), 64);
      p.forget('bravo', 'm1');
      assert.equal(p.sentOffset('bravo', 'm1'), 0);
    });

    test('the received prefix grows piece by piece, per peer and id; forget drops it', () => {
      const p = make();
      assert.equal(p.received('alpha', 'x'), undefined);
      p.appendReceived('alpha', 'x', 0, Uint8Array.of(1, 2, 3));
      p.appendReceived('alpha', 'x', 3, Uint8Array.of(4, 5));
      assert.deepEqual([...p.received('alpha', 'x')!], [1, 2, 3, 4, 5]);
      assert.equal(p.received('other', 'x'), undefined);
      p.forget('alpha', 'x');
      assert.equal(p.received('alpha', 'x'), undefined);
    });

    test('appending at 0 starts the prefix afresh', () => {
      const p = make();
      p.appendReceived('alpha', 'y', 0, Uint8Array.of(9, 9));
      p.appendReceived('alpha', 'y', 0, Uint8Array.of(7));
      assert.deepEqual([...p.received('alpha', 'y')!].slice(0, 1), [7]);
    });

    test('delivered ids are per peer, survive forget, and drop the partial', () => {
      const p = make();
      p.appendReceived('alpha', 'z', 0, Uint8Array.of(1));
      assert.equal(p.isDelivered('alpha', 'z'), false);
      p.markDelivered('alpha', 'z');
      assert.equal(p.isDelivered('alpha', 'z'), true);
      assert.equal(p.isDelivered('charlie', 'z'), false, 'duplicates are recognised per peer');
      assert.equal(p.received('alpha', 'z'), undefined);
      p.forget('alpha', 'z');
      assert.equal(p.isDelivered('alpha', 'z'), true);
    });
  });
}

/** An outbound source with a way to put a message in, and to see what became of the ones settled. */
interface OutboundHarness {
  source: OutboundSource;
  put(id: string, priority: number, opts?: { deadline?: number; arcpt?: boolean }): void;
  settled: () => { withdrawn: string[]; refused: string[] };
}

const now = 1_800_000_000_000;
const outbounds: [string, () => OutboundHarness][] = [
  ['in memory (MemoryOutbound)', () => {
    const out = new MemoryOutbound();
    return {
      source: out,
      put: (id, priority, o = {}) => out.add({ id, priority, queuedAt: now, bundle: Uint8Array.of(1, 2, 3), size: 3, ...(o.deadline !== undefined ? { deadline: o.deadline } : {}) }),
      settled: () => ({ withdrawn: out.withdrawn, refused: out.refusals.map((r) => r.id) }),
    };
  }],
  ['SQLite (the queue: LinkOutbound)', () => {
    const s = sqlite();
    const withdrawn: string[] = [];
    const refused: string[] = [];
    const source = new LinkOutbound(s, 'bravo', {
      now: () => now,
      makeBundle: (m) => Uint8Array.from(m.content),
      withdrawn: (id) => void withdrawn.push(id),
      refused: (id) => void refused.push(id),
    });
    return {
      source,
      put: (id, priority, o = {}) =>
        s.insert(
          buildMessage({
            id,
            receivedAt: now,
            priority: { value: priority, source: 'mt-priority', requested: priority },
            ...(o.deadline !== undefined ? { params: { smtputf8: false, by: { at: o.deadline, mode: 'R', trace: false, requestedSeconds: 60 } } } : {}),
            recipients: [buildRecipient({ address: 'ops@base.example', route: { kind: 'link', target: 'bravo' }, ...(o.arcpt ? { arcpt: { type: 'rfc822', address: 'alt@base.example' } } : {}) })],
            content: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
          }),
        ),
      settled: () => ({ withdrawn, refused }),
    };
  }],
];

for (const [name, make] of outbounds) {
  describe(`OutboundSource contract: ${name}`, () => {
    test('pending lists what waits, with priority and deadline; custody takes it away', () => {
      const h = make();
      h.put('01CONTRACT0000000001', 4);
      h.put('01CONTRACT0000000002', -2, { deadline: now + 60_000 });
      const items = [...h.source.pending()].sort((a, b) => a.id.localeCompare(b.id));
      assert.deepEqual(items.map((i) => [i.id, i.priority, i.deadline]), [['01CONTRACT0000000001', 4, undefined], ['01CONTRACT0000000002', -2, now + 60_000]]);
      h.source.custodyConfirmed('01CONTRACT0000000001');
      assert.deepEqual(h.source.pending().map((i) => i.id), ['01CONTRACT0000000002']);
    });

    test('the bundle is made on demand, for the peer\'s dictionaries', () => {
      const h = make();
      h.put('01CONTRACT0000000003', 0);
      const item = h.source.pending()[0] as OutboundItem;
      const b = typeof item.bundle === 'function' ? item.bundle([0, 1]) : item.bundle;
      assert.ok(b.length > 0);
    });

    test('expired and refused reach whoever records outcomes', () => {
      const h = make();
      h.put('01CONTRACT0000000004', 0);
      h.put('01CONTRACT0000000005', 0);
      h.source.expired('01CONTRACT0000000004', now);
      h.source.refused('01CONTRACT0000000005', '5.3.4', 'too big', now);
      assert.deepEqual(h.settled(), { withdrawn: ['01CONTRACT0000000004'], refused: ['01CONTRACT0000000005'] });
    });
  });
}
