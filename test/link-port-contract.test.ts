// One contract for every LinkPort: the serialport adapter over a socat pty pair, and the simulator's ports.
// Then the whole link in real time over the pty pair: the same code as in virtual time.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { systemClock } from '../src/core/index.ts';
import { LinkStation, MemoryOutbound, MemoryProgressStore, openSerialLinkPort, openTcpLinkPort, type LinkPort } from '../src/link/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { ptyPair } from './support/pty-pair.ts';

interface Pair {
  a: LinkPort;
  b: LinkPort;
  /** Lets the bytes in flight arrive (real waiting, or virtual time). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const implementations: [string, () => Promise<Pair>][] = [
  [
    'serialport over a socat pty pair',
    async () => {
      const pty = await ptyPair();
      const a = await openSerialLinkPort({ path: pty.a, baudRate: 115200 });
      const b = await openSerialLinkPort({ path: pty.b, baudRate: 115200 });
      return {
        a,
        b,
        settle: () => new Promise((r) => setTimeout(r, 300)),
        async close() {
          await a.close();
          await b.close();
          pty.close();
        },
      };
    },
  ],
  [
    'TCP modem port (openTcpLinkPort), through a loopback null modem',
    async () => {
      // A stand-in for a modem's data port: the first two connections are joined to each other.
      const waiting: net.Socket[] = [];
      const server = net.createServer((s) => {
        const other = waiting.shift();
        if (other) {
          s.pipe(other);
          other.pipe(s);
        } else waiting.push(s);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      const a = await openTcpLinkPort('127.0.0.1', port);
      const b = await openTcpLinkPort('127.0.0.1', port);
      await new Promise((r) => setTimeout(r, 50));
      return {
        a,
        b,
        settle: () => new Promise((r) => setTimeout(r, 300)),
        async close() {
          await a.close();
          await b.close();
          server.close();
        },
      };
    },
  ],
  [
    'simulator channel (clean, full duplex)',
    async () => {
      const clock = new VirtualClock();
      const { a, b } = createChannel({ bitRate: 9600, duplex: 'full', turnaroundMs: 0 }, clock, new SeededRandom(3));
      return { a, b, settle: () => clock.runUntil(clock.now() + 60_000).then(() => undefined), close: async () => undefined };
    },
  ],
];

for (const [name, make] of implementations) {
  describe(`LinkPort contract: ${name}`, () => {
    test('bytes arrive in order and intact, every byte value, both directions, in any write sizes', async () => {
      const p = await make();
      try {
        const gotB: number[] = [];
        const gotA: number[] = [];
        p.b.onData((c) => gotB.push(...c));
        p.a.onData((c) => gotA.push(...c));
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const sent: number[] = [];
        for (const size of [1, 7, 256, 1000, 3]) {
          const chunk = Uint8Array.from({ length: size }, (_, i) => all[(i * 31 + size) % 256]!);
          p.a.write(chunk);
          sent.push(...chunk);
        }
        p.b.write(all);
        await p.settle();
        assert.deepEqual(gotB, sent);
        assert.deepEqual(gotA, [...all]);
      } finally {
        await p.close();
      }
    });
  });
}

describe('the link in real time over a socat pty pair', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanup) await c();
  });

  test('messages of mixed priority cross with custody, through the real serialport package', async () => {
    const pty = await ptyPair();
    cleanup.push(() => pty.close());
    const pa = await openSerialLinkPort({ path: pty.a, baudRate: 115200 });
    const pb = await openSerialLinkPort({ path: pty.b, baudRate: 115200 });
    cleanup.push(() => pa.close(), () => pb.close());
    const key = new TextEncoder().encode('pty test key');
    const common = { key, duplex: 'half', bitRate: 57600, turnaroundMs: 20, latencyMs: 20, maxFrame: 256, window: 64, maxOverMs: 2000 } as const;
    const out = new MemoryOutbound();
    const got: string[] = [];
    const rnd = new SeededRandom(5);
    const alpha = new LinkStation({ ...common, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock: systemClock, random: rnd.fork(), port: pa, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore() });
    const bravo = new LinkStation({ ...common, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock: systemClock, random: rnd.fork(), port: pb, source: new MemoryOutbound(), sink: { accept: async (id) => void got.push(id) }, progress: new MemoryProgressStore() });
    cleanup.push(() => alpha.stop(), () => bravo.stop());
    out.onAdd(() => alpha.notify());
    for (const [id, prio, size] of [['routine', -2, 6000], ['normal', 0, 800], ['flash', 4, 300]] as const)
      out.add({ id, priority: prio, queuedAt: Date.now(), bundle: rnd.bytes(size) });
    bravo.start();
    alpha.start();
    for (let i = 0; i < 100 && out.confirmed.length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([...out.confirmed].sort(), ['flash', 'normal', 'routine']);
    assert.deepEqual(got, ['flash', 'normal', 'routine']);
  });
});

test('a modem port that cannot be reached is an error naming it', async () => {
  const { freePort } = await import('./support/gateway-process.ts');
  const port = await freePort();
  await assert.rejects(openTcpLinkPort('127.0.0.1', port), new RegExp(`cannot reach the modem at 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
});
