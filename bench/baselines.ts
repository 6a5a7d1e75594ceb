// The two baselines of the goodput benchmark, run on the same simulated channel as hfmail's link:
//  - whole message: each message goes in one transmission (frames of the same size, KISS-framed) followed by
//    an end frame with the CRC-32 of the whole; the receiver answers OK only when the whole checks, and anything
//    else (a damaged or lost frame, a lost end or answer) sends it again from the first byte: B2F or UUCP over a
//    modem without its own ARQ;
//  - stop-and-wait: one frame of the same size at a time (sequence byte, data, CRC-32), each answered by an
//    acknowledgement before the next; a timeout sends it again.
// Both are deliberately simple: no hello, no authentication, 4 bytes of check per frame.
import { crc32 } from 'node:zlib';
import { encodeKiss, KissDecoder } from '../src/codec/kiss.ts';
import { createChannel, type SimPort } from '../sim/channel.ts';
import { channelOptions } from '../sim/scenario.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { scenarioLink, type LinkSpec } from './link-run.ts';

export interface BaselineRun {
  delivered: number;
  bundleBytes: number;
  seconds: number;
  onAir: number;
  transmissions: number;
}

function withCrc(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body));
  return encodeKiss(out);
}

function checked(payload: Uint8Array): Uint8Array | undefined {
  if (payload.length < 4) return undefined;
  const body = payload.subarray(0, payload.length - 4);
  return new DataView(payload.buffer, payload.byteOffset + body.length, 4).getUint32(0) === crc32(body) ? body : undefined;
}

/** Frames of at most `size` bytes as they arrive, each checked (undefined when damaged). */
function receiver(port: SimPort, onFrame: (body: Uint8Array | undefined) => void): void {
  const kiss = new KissDecoder(1 << 16);
  port.onData((chunk) => {
    for (const f of kiss.push(chunk)) onFrame(checked(f.payload));
  });
}

interface Env {
  clock: VirtualClock;
  a: SimPort;
  b: SimPort;
  spec: LinkSpec;
  byteMs: number;
  stats: () => number;
}

function env(spec: LinkSpec, seed: number): Env {
  const L = scenarioLink(spec);
  const clock = new VirtualClock();
  const ch = createChannel(channelOptions(L), clock, new SeededRandom(seed).fork());
  return { clock, a: ch.a, b: ch.b, spec, byteMs: (8 * 1000) / spec.bitRate, stats: () => ch.a.stats.bytesOnAir + ch.b.stats.bytesOnAir };
}

/** How long a sender waits for an answer after its transmission left the air. */
function answerWait(e: Env, answerBytes: number): number {
  return 2 * e.spec.turnaroundMs + 2 * (e.spec.propagationMs ?? 10) + answerBytes * e.byteMs + 500;
}

async function drive(e: Env, bundles: readonly Uint8Array[], done: () => number, limitS: number, start: () => void): Promise<number> {
  start();
  const limit = e.clock.now() + limitS * 1000;
  for (;;) {
    const more = await e.clock.runUntil(Math.min(e.clock.now() + 10_000, limit));
    if (done() >= bundles.length || !more || e.clock.now() >= limit) break;
  }
  return e.clock.now();
}

/** Whole-message transfer with a checksum over the message and retry from zero. */
export async function runWholeMessage(spec: LinkSpec, bundles: readonly Uint8Array[], seed: number, limitS: number): Promise<BaselineRun> {
  const e = env(spec, seed);
  const t0 = e.clock.now();
  let next = 0;
  let transmissions = 0;
  let lastAt = t0;
  let timer: { cancel(): void } | undefined;
  // The channel is free when we send (the answer has come): key-up, our bytes, then the wait for the answer.
  const armTimeout = (bytes: number) => {
    timer?.cancel();
    timer = e.clock.setTimer(e.spec.turnaroundMs + bytes * e.byteMs + answerWait(e, 8), send);
  };
  // Receiver: collects the frames of the current attempt (attempt, index, data); the end frame (0xff, attempt,
  // frame count, CRC-32 of the whole) decides.
  let attempt = -1;
  let parts = new Map<number, Uint8Array>();
  receiver(e.b, (body) => {
    if (!body || body.length < 3) return;
    if (body[0] === 0xff) {
      const n = (body[2]! << 8) | body[3]!;
      const all = body[1] === attempt && parts.size === n;
      const whole = all ? Buffer.concat([...Array(n).keys()].map((i) => parts.get(i) ?? new Uint8Array(0))) : undefined;
      const ok = whole !== undefined && new DataView(body.buffer, body.byteOffset + 4, 4).getUint32(0) === crc32(whole);
      e.b.write(withCrc(Uint8Array.of(ok ? 0x06 : 0x15, 0, 0)));
      return;
    }
    if (body[0] !== attempt) {
      attempt = body[0]!;
      parts = new Map();
    }
    parts.set(body[1]!, body.subarray(2));
  });
  const send = () => {
    if (next >= bundles.length) return;
    const m = bundles[next]!;
    const a = transmissions++ & 0x7f;
    let n = 0;
    for (let off = 0; off < m.length; off += spec.frameSize, n++) e.a.write(withCrc(Buffer.concat([Uint8Array.of(a, n & 0xff), m.subarray(off, off + spec.frameSize)])));
    const end = new Uint8Array(8);
    end.set([0xff, a, n >> 8, n & 0xff]);
    new DataView(end.buffer).setUint32(4, crc32(m));
    e.a.write(withCrc(end));
    armTimeout(m.length + 32 * n + 16);
  };
  receiver(e.a, (body) => {
    timer?.cancel();
    if (body && body[0] === 0x06) {
      next++;
      lastAt = e.clock.now();
    }
    send();
  });
  await drive(e, bundles, () => next, limitS, send);
  timer?.cancel();
  return { delivered: next, bundleBytes: bundles.slice(0, next).reduce((a, b) => a + b.length, 0), seconds: (lastAt - t0) / 1000, onAir: e.stats(), transmissions };
}

/** Stop-and-wait: one frame, its acknowledgement, the next. */
export async function runStopAndWait(spec: LinkSpec, bundles: readonly Uint8Array[], seed: number, limitS: number): Promise<BaselineRun> {
  const e = env(spec, seed);
  const t0 = e.clock.now();
  const stream = Buffer.concat(bundles);
  const ends: number[] = [];
  bundles.reduce((a, b) => (ends.push(a + b.length), a + b.length), 0);
  let offset = 0;
  let seq = 0;
  let transmissions = 0;
  let delivered = 0;
  let lastAt = t0;
  let timer: { cancel(): void } | undefined;
  // The channel is free when we send (the answer has come): key-up, our bytes, then the wait for the answer.
  const armTimeout = (bytes: number) => {
    timer?.cancel();
    timer = e.clock.setTimer(e.spec.turnaroundMs + bytes * e.byteMs + answerWait(e, 8), send);
  };
  let expect = 0;
  receiver(e.b, (body) => {
    if (!body) return;
    if (body[0] === expect) expect = (expect + 1) & 0xff;
    e.b.write(withCrc(Uint8Array.of(body[0]!)));
  });
  const send = () => {
    if (offset >= stream.length) return;
    transmissions++;
    e.a.write(withCrc(Buffer.concat([Uint8Array.of(seq), stream.subarray(offset, offset + spec.frameSize)])));
    armTimeout(spec.frameSize + 16);
  };
  receiver(e.a, (body) => {
    if (!body || body[0] !== seq) return;
    timer?.cancel();
    offset = Math.min(stream.length, offset + spec.frameSize);
    seq = (seq + 1) & 0xff;
    while (delivered < ends.length && ends[delivered]! <= offset) {
      delivered++;
      lastAt = e.clock.now();
    }
    send();
  });
  await drive(e, bundles, () => delivered, limitS, send);
  timer?.cancel();
  return { delivered, bundleBytes: bundles.slice(0, delivered).reduce((a, b) => a + b.length, 0), seconds: (lastAt - t0) / 1000, onAir: e.stats(), transmissions };
}
