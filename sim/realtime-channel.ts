import { systemClock } from '../src/core/index.ts';
import { openSerialLinkPort } from '../src/link/index.ts';
import { createChannel, type ChannelOptions } from './channel.ts';
import { SeededRandom } from './seeded-random.ts';

/**
 * The simulated radio in real time between two serial devices (pseudo-terminals from socat): what one
 * station writes takes its airtime, turnaround, errors and fades before the other reads it. So two gateway
 * processes with the real serialport package talk through a simulated HF link.
 */
export async function runRealtimeChannel(a: string, b: string, opts: ChannelOptions, seed: number): Promise<{ stop(): Promise<void>; stats(): unknown }> {
  const devA = await openSerialLinkPort({ path: a, baudRate: 115200 });
  const devB = await openSerialLinkPort({ path: b, baudRate: 115200 });
  const radio = createChannel(opts, systemClock, new SeededRandom(seed));
  devA.onData((chunk) => radio.a.write(chunk));
  devB.onData((chunk) => radio.b.write(chunk));
  radio.a.onData((chunk) => devA.write(chunk)); // what station B sent, arriving at station A
  radio.b.onData((chunk) => devB.write(chunk));
  return {
    async stop() {
      await devA.close();
      await devB.close();
    },
    stats: () => ({ aToB: radio.a.stats, bToA: radio.b.stats }),
  };
}
