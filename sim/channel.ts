import type { LinkPort } from '../src/link/link-port.ts';
import type { SeededRandom } from './seeded-random.ts';
import type { Clock } from '../src/core/index.ts';

/** Bit errors: a constant rate, or Gilbert-Elliott bursts (two states, each with its own rate and mean dwell). */
export type BitErrors = number | { good: number; bad: number; meanGoodBits: number; meanBadBits: number };

export interface ChannelOptions {
  readonly bitRate: number;
  readonly bitsPerByte?: number;
  readonly propagationMs?: number;
  readonly duplex: 'half' | 'full';
  /** Dead air after key-up before the first bit (half duplex). */
  readonly turnaroundMs: number;
  readonly ber?: BitErrors;
  /** Fades: nothing gets through while one lasts; times relative to the start. */
  readonly outages?: readonly { atMs: number; durationMs: number }[];
  readonly randomOutages?: { meanIntervalMs: number; meanDurationMs: number };
}

export interface DirectionStats {
  bytesOnAir: number;
  bytesDelivered: number;
  bitErrors: number;
  bytesLostToOutage: number;
  collidedBytes: number;
  keyUps: number;
  airtimeMs: number;
}

export interface SimPort extends LinkPort {
  readonly stats: DirectionStats;
  isTransmitting(): boolean;
}

interface Side {
  readonly name: 'a' | 'b';
  keyedFrom: number;
  txEnd: number;
  /** Recent key-up..end intervals, for collisions. */
  spans: { from: number; to: number }[];
  listeners: ((chunk: Uint8Array) => void)[];
  stats: DirectionStats;
}

/**
 * The radio between two stations: bytes take their airtime at the bit rate, arrive after the propagation
 * delay, a half-duplex key-up costs the turnaround, two stations on the air at once destroy each other's bytes,
 * fades swallow what is sent during them, and bit errors flip bits (a modem hands on damaged bytes). Everything
 * is driven by the virtual clock and one seeded random source.
 */
export function createChannel(opts: ChannelOptions, clock: Clock, rng: SeededRandom): { a: SimPort; b: SimPort } {
  const t0 = clock.now();
  const byteMs = ((opts.bitsPerByte ?? 8) * 1000) / opts.bitRate;
  const prop = opts.propagationMs ?? 10;
  const outages = [...(opts.outages ?? []).map((o) => ({ from: t0 + o.atMs, to: t0 + o.atMs + o.durationMs }))];
  if (opts.randomOutages) {
    const r = rng.fork();
    let at = t0;
    for (let i = 0; i < 10_000; i++) {
      at += -Math.log(1 - r.next()) * opts.randomOutages.meanIntervalMs;
      const dur = -Math.log(1 - r.next()) * opts.randomOutages.meanDurationMs;
      outages.push({ from: at, to: at + dur });
      if (at > t0 + 30 * 86_400_000) break;
    }
  }
  const errors = bitErrorSource(opts.ber ?? 0, rng.fork());
  const newStats = (): DirectionStats => ({ bytesOnAir: 0, bytesDelivered: 0, bitErrors: 0, bytesLostToOutage: 0, collidedBytes: 0, keyUps: 0, airtimeMs: 0 });
  const sides: Record<'a' | 'b', Side> = {
    a: { name: 'a', keyedFrom: 0, txEnd: -Infinity, spans: [], listeners: [], stats: newStats() },
    b: { name: 'b', keyedFrom: 0, txEnd: -Infinity, spans: [], listeners: [], stats: newStats() },
  };

  const port = (me: Side, other: Side): SimPort => ({
    stats: me.stats,
    isTransmitting: () => clock.now() < me.txEnd,
    write(data: Uint8Array) {
      if (data.length === 0) return;
      const now = clock.now();
      if (now >= me.txEnd) {
        // Key-up: on a half-duplex radio the first bit comes only after the turnaround.
        me.keyedFrom = now;
        me.txEnd = now + (opts.duplex === 'half' ? opts.turnaroundMs : 0);
        me.spans.push({ from: now, to: me.txEnd });
        me.stats.keyUps++;
      }
      const start = me.txEnd;
      me.txEnd = start + data.length * byteMs;
      me.spans[me.spans.length - 1]!.to = me.txEnd;
      me.stats.bytesOnAir += data.length;
      me.stats.airtimeMs += data.length * byteMs;
      const bytes = Uint8Array.from(data);
      clock.setTimer(me.txEnd + prop - now, () => deliver(me, other, bytes, start));
    },
    onData(l) {
      me.listeners.push(l);
    },
    onClose() {},
    async close() {},
  });

  function deliver(from: Side, to: Side, bytes: Uint8Array, start: number): void {
    const kept: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const s = start + i * byteMs;
      const e = s + byteMs;
      if (outages.some((o) => o.from < e && o.to > s)) {
        from.stats.bytesLostToOutage++;
        continue;
      }
      if (opts.duplex === 'half' && to.spans.some((sp) => sp.from < e && sp.to > s)) {
        from.stats.collidedBytes++;
        continue;
      }
      kept.push(bytes[i]!);
    }
    const out = Uint8Array.from(kept);
    from.stats.bitErrors += errors(out);
    from.stats.bytesDelivered += out.length;
    const horizon = clock.now() - 600_000;
    to.spans = to.spans.filter((sp) => sp.to > horizon);
    if (out.length) for (const l of to.listeners) l(out);
  }

  return { a: port(sides.a, sides.b), b: port(sides.b, sides.a) };
}

/** Flips bits in place and returns how many; draws the gap to the next error instead of testing every bit. */
function bitErrorSource(ber: BitErrors, rng: SeededRandom): (bytes: Uint8Array) => number {
  if (typeof ber === 'number') {
    let gap = rng.geometric(ber);
    return (bytes) => {
      let flips = 0;
      const bits = bytes.length * 8;
      let pos = gap - 1;
      while (pos < bits) {
        bytes[pos >> 3]! ^= 1 << (pos & 7);
        flips++;
        pos += rng.geometric(ber);
      }
      gap = pos - bits + 1;
      return flips;
    };
  }
  let bad = false;
  let dwell = rng.geometric(1 / ber.meanGoodBits);
  return (bytes) => {
    let flips = 0;
    const bits = bytes.length * 8;
    let pos = 0;
    while (pos < bits) {
      const span = Math.min(dwell, bits - pos);
      const rate = bad ? ber.bad : ber.good;
      for (let p = pos + rng.geometric(rate) - 1; p < pos + span; p += rng.geometric(rate)) {
        bytes[p >> 3]! ^= 1 << (p & 7);
        flips++;
      }
      pos += span;
      dwell -= span;
      if (dwell <= 0) {
        bad = !bad;
        dwell = rng.geometric(1 / (bad ? ber.meanBadBits : ber.meanGoodBits));
      }
    }
    return flips;
  };
}
