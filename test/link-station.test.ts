import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { MemoryOutbound, MemoryProgressStore, type InboundSink } from '../src/link/contracts.ts';
import type { LinkOptions } from '../src/link/link-options.ts';
import { TestClock, testRandom, wire } from './support/mini-sim.ts';

const KEY = new TextEncoder().encode('a shared key for alpha and bravo');

function pair(clock: TestClock, w: ReturnType<typeof wire>, over: Partial<LinkOptions> = {}) {
  const base = { key: KEY, duplex: 'half', bitRate: 2400, turnaroundMs: 1500, maxFrame: 256, window: 128, maxOverMs: 60_000, ...over } as const;
  const mk = (station: string, peer: string, role: 'caller' | 'answerer', port: typeof w.a) => {
    const out = new MemoryOutbound();
    const got = new Map<string, Uint8Array>();
    const events: LinkEvent[] = [];
    const sink: InboundSink = { accept: async (id, b) => void got.set(id, b) };
    const st = new LinkStation({ ...base, station, peer, role }, { clock, random: testRandom(station.length), port, source: out, sink, progress: new MemoryProgressStore(), onEvent: (e) => events.push(e) });
    out.onAdd(() => st.notify());
    return { st, out, got, events };
  };
  return { alpha: mk('alpha', 'bravo', 'caller', w.a), bravo: mk('bravo', 'alpha', 'answerer', w.b) };
}

test('twenty short messages: hello, one data over, one ack over', async () => {
  const clock = new TestClock();
  const w = wire(clock, 2400, 1500);
  const { alpha, bravo } = pair(clock, w);
  for (let i = 0; i < 20; i++) alpha.out.add({ id: `m${i}`, priority: 0, queuedAt: clock.now(), bundle: new Uint8Array(300 + i).fill(i) });
  alpha.st.start();
  await clock.run(clock.now() + 600_000);
  assert.equal(bravo.got.size, 20);
  assert.equal(alpha.out.confirmed.length, 20);
  assert.ok(Buffer.from(bravo.got.get('m7')!).equals(Buffer.alloc(307, 7)));
  const overs = w.a.stats().keyUps + w.b.stats().keyUps;
  assert.equal(overs, 4, `overs: alpha ${w.a.stats().keyUps}, bravo ${w.b.stats().keyUps}`);
});
