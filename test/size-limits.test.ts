// One default for the largest message, used by every layer: the gateway's limits.maxMessageSize, the codec's
// decode limit and the link's largest bundle (that plus the envelope slack). Before, they were 10, 16 and 32 MiB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleFromMessage, decodeBundle, DEFAULT_LIMITS, encodeBundle } from '../src/codec/index.ts';
import { BUNDLE_SLACK_BYTES, DEFAULT_MAX_BUNDLE_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from '../src/core/index.ts';
import { validateConfig } from '../src/gateway/index.ts';
import { MemoryOutbound, MemoryProgressStore } from '../src/link/contracts.ts';
import type { LinkPort } from '../src/link/link-port.ts';
import { LinkStation } from '../src/link/link-station.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { buildMessage } from './support/messages.ts';

test('the gateway, the codec and the link default to the same largest message', () => {
  assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 10 * 1024 * 1024);
  assert.equal(validateConfig({}).limits.maxMessageSize, DEFAULT_MAX_MESSAGE_BYTES);
  assert.equal(DEFAULT_LIMITS.maxContent, DEFAULT_MAX_MESSAGE_BYTES);
  assert.equal(DEFAULT_MAX_BUNDLE_BYTES, DEFAULT_MAX_MESSAGE_BYTES + BUNDLE_SLACK_BYTES);

  const port: LinkPort = { write: () => undefined, onData: () => undefined, onClose: () => undefined, close: async () => undefined };
  const station = new LinkStation(
    { station: 'alpha', peer: 'bravo', key: new Uint8Array(32), role: 'caller', duplex: 'half', bitRate: 2400, turnaroundMs: 500, maxFrame: 256, window: 32, maxOverMs: 20_000 },
    { clock: new VirtualClock(), random: new SeededRandom(1), port, source: new MemoryOutbound(), progress: new MemoryProgressStore(), sink: { accept: async () => undefined } },
  );
  // The receiver refuses an OPEN for more than this with 5.3.4 (receiver.ts).
  assert.equal((station as unknown as { receiver: { maxBundle: number } }).receiver.maxBundle, DEFAULT_MAX_BUNDLE_BYTES);
});

test('by default the codec takes a message of the largest size and refuses one byte more', () => {
  const at = (size: number) => {
    const m = buildMessage({ content: new Uint8Array(size).fill(0x41) });
    return decodeBundle(encodeBundle(bundleFromMessage(m, m.receivedAt), 0));
  };
  const ok = at(DEFAULT_MAX_MESSAGE_BYTES);
  assert.ok(!('error' in ok), JSON.stringify(ok));
  const over = at(DEFAULT_MAX_MESSAGE_BYTES + 1);
  assert.ok('error' in over && over.error === 'too-large', JSON.stringify(over));
});
