// What arrives over the radio is held to the station's limits.maxMessageSize: a bundle that declares more, or a
// small one that inflates to more (a decompression bomb), is refused with 5.3.4 before it is inflated further,
// and nothing is stored; one within the limit is taken.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { Encoder } from 'cbor-x';
import pino from 'pino';
import { bundleFromMessage, encodeBundle } from '../src/codec/index.ts';
import { LinkInbound } from '../src/gateway/link-endpoint.ts';
import { LinkRefusal } from '../src/link/contracts.ts';
import type { RelayRunner } from '../src/relay/index.ts';
import { buildMessage } from './support/messages.ts';
import { TestClock } from './support/mini-sim.ts';
import { openStore } from './support/temp-store.ts';

const MAX = 100_000;

function inbound(t: Parameters<typeof openStore>[0]) {
  const store = openStore(t);
  const clock = new TestClock();
  const endpoint = { station: 'bravo', hostname: 'bravo.example', peer: 'alpha', route: () => ({ kind: 'link' as const, target: 'charlie' }), clock, log: pino({ level: 'silent' }), maxMessageSize: MAX, maxReceived: 50 };
  return { store, clock, sink: new LinkInbound(store, { kick: () => undefined } as unknown as RelayRunner, endpoint) };
}

async function refusal(p: Promise<void>): Promise<LinkRefusal> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LinkRefusal) return err;
    throw err;
  }
  assert.fail('taken, not refused');
}

test('a bundle over maxMessageSize, declared or inflated, is refused 5.3.4 and not stored; one within it is taken', async (t) => {
  const { store, clock, sink } = inbound(t);
  const big = buildMessage({ content: Buffer.alloc(MAX + 70_000, 0x41) });
  const r1 = await refusal(sink.accept(big.id, encodeBundle(bundleFromMessage(big, clock.now()), 1), clock.now()));
  assert.equal(r1.status, '5.3.4');
  assert.equal(store.get(big.id), undefined);
  // Bombs: 64 MiB of zeros in some tens of KB, declaring 1000 bytes, or the limit.
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  for (const [codec, body] of [[1, deflateRawSync(zeros, { level: 9 })], [2, brotliCompressSync(zeros)]] as const) {
    for (const declared of [1000, MAX]) {
      const before = process.memoryUsage().rss;
      const started = performance.now();
      const r = await refusal(sink.accept('01BOMB00000000000000', cbor.encode([3, [codec, 0, declared, 100, new Uint8Array(8)], body]), clock.now()));
      assert.equal(r.status, '5.3.4', `${codec} ${declared}: ${r.text}`);
      assert.ok(performance.now() - started < 2000, 'stopped at the limit, not inflated whole');
      assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'memory stays bounded');
    }
  }
  const ok = buildMessage({ content: Buffer.alloc(MAX - 1000, 0x42) });
  await sink.accept(ok.id, encodeBundle(bundleFromMessage(ok, clock.now()), 1), clock.now());
  assert.ok(store.get(ok.id));
});
