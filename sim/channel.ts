import type { Clock, Timer } from '../src/core/index.ts';
import type { LinkPort } from '../src/link/link-port.ts';
import { createErrorSource, type BitErrors, type ErrorSource } from './bit-errors.ts';
import { OutageSchedule, type Outage, type RandomOutages } from './outage-schedule.ts';
import type { SeededRandom } from './seeded-random.ts';

export type { BitErrors, GilbertElliott } from './bit-errors.ts';
export type { Outage, RandomOutages } from './outage-schedule.ts';

export interface ChannelOptions {
  /** On-air bit rate, bit/s. */
  readonly bitRate: number;
  /** Bits on air per byte: 8 (default), or 10 with `asyncFraming` (start and stop bit). */
  readonly bitsPerByte?: number;
  readonly asyncFraming?: boolean;
  /** One way, ms (default 10). */
  readonly propagationMs?: number;
  readonly duplex: 'half' | 'full';
  /** Half duplex: dead air from key-up to the first byte (TXDELAY, sync, the far receiver recovering). Default 0. */
  readonly turnaroundMs?: number;
  /** Bit errors (default none): bits are flipped in the delivered bytes, never dropped. */
  readonly ber?: BitErrors;
  /** Fades, relative to the channel's creation: what is on the air during one is lost. */
  readonly outages?: readonly Outage[];
  readonly randomOutages?: RandomOutages;
  /**
   * 0 (default): each write arrives as one chunk once its last byte has. Above 0: the receiver gets, at every
   * multiple of this many ms since the start, the bytes that completed since the previous one.
   */
  readonly deliveryQuantumMs?: number;
}

/** What one side transmitted and what became of it. */
export interface DirectionStats {
  /** Bytes transmitted, lost ones included. */
  bytesOnAir: number;
  bytesDelivered: number;
  bitErrors: number;
  bytesLostToOutage: number;
  /** Bytes that arrived while the receiver was keyed itself (half duplex). */
  collidedBytes: number;
  /** Transmissions (overs): key-ups after the transmitter was idle. */
  keyUps: number;
  /** Time the bytes took on the air. */
  airtimeMs: number;
  /** Airtime plus the turnaround of every key-up: how long the transmitter was keyed. */
  keyedMs: number;
}

/** What the third transmitter (`channel.inject`) put on the air and what became of it. */
export interface AttackerStats {
  /** Transmissions: one per `inject`. */
  injections: number;
  /** Bytes transmitted, lost ones included. */
  bytesOnAir: number;
  /** Bytes handed to a receiver (counted once per receiver). */
  bytesDelivered: number;
  bitErrors: number;
  bytesLostToOutage: number;
  /** Its bytes lost at a receiver that was keyed, or that the other station's bytes reached at the same time. */
  collidedBytes: number;
  /** Station bytes it destroyed at the receiver (also in that station's `collidedBytes`). */
  jammedBytes: number;
  /** Time its bytes took on the air. */
  airtimeMs: number;
}

/** A receiver on the channel: station a (alpha) or b (bravo). */
export type ChannelEnd = 'a' | 'b';

export interface SimPortExtras {
  /** What this side transmitted. */
  readonly stats: DirectionStats;
  /** From key-up until this side's queue has drained. */
  isTransmitting(): boolean;
  /** Called whenever this side's queue drains (its over ends). */
  onIdle(listener: () => void): void;
}

export interface SimPort extends LinkPort, SimPortExtras {}

export interface SimChannel {
  readonly a: SimPort;
  readonly b: SimPort;
  readonly stats: { readonly aToB: DirectionStats; readonly bToA: DirectionStats; readonly attacker: AttackerStats };
  /** The fades, fixed and random, relative to the channel's creation. */
  readonly outages: OutageSchedule;
  /**
   * A third transmitter (an attacker) puts `bytes` on the air now, or right after its previous transmission, with
   * no turnaround, for `to`'s receiver (or both): they arrive after the propagation delay unless faded, the
   * receiver is keyed meanwhile, or the other station's bytes reach it at the same time; those station bytes are
   * lost too. Counts in `stats.attacker`, never in a station's `bytesOnAir` or `keyUps`.
   */
  inject(to: ChannelEnd | 'both', bytes: Uint8Array): void;
}

interface Interval {
  from: number;
  to: number;
}

/** A transmission of the attacker towards one receiver or both. */
interface Injection {
  readonly start: number;
  readonly bytes: Uint8Array;
  readonly targets: readonly Side[];
}

interface Segment {
  /** When its first byte goes on the air, relative to the start. */
  readonly start: number;
  readonly bytes: Uint8Array;
  /** Bytes already handed on. */
  done: number;
}

interface Side {
  readonly stats: DirectionStats;
  readonly corrupt: ErrorSource;
  /** What this side sent that has not reached the other yet, in order. */
  readonly queue: Segment[];
  /** Keyed intervals [from, to) of this side, relative, while they may still matter (half duplex). */
  readonly spans: Interval[];
  /** When this side's bytes were on the air, [from, to) relative, merged, while an attacker's may still meet them. */
  readonly air: Interval[];
  /** When the attacker's bytes for this receiver were on the air (send times), while station bytes may still meet them. */
  readonly jams: Interval[];
  txEnd: number;
  timer?: Timer;
  idleTimer?: Timer;
  closed: boolean;
  readonly dataListeners: ((chunk: Uint8Array) => void)[];
  readonly closeListeners: ((err?: Error) => void)[];
  readonly idleListeners: (() => void)[];
}

const EPS = 1e-6;

/**
 * The radio between two stations A and B, as smoltcp's fault injector wraps a device: bytes take their airtime at
 * the bit rate and arrive after the propagation delay; a half-duplex key-up costs the turnaround; a station keyed
 * while bytes reach it loses them (both ways, when both transmit at once); fades swallow what is on the air
 * during them; bit errors flip bits. Time comes from the clock passed in (virtual or real), every random choice
 * from the seeded source, and there is one timer per write (or per delivery quantum), not per byte.
 */
export function createChannel(opts: ChannelOptions, clock: Clock, rng: SeededRandom): SimChannel {
  const { byteMs, prop, turnaround, quantum, half } = resolveOptions(opts);
  const t0 = clock.now();
  const rel = () => clock.now() - t0;
  const outages = new OutageSchedule(opts.outages ?? [], opts.randomOutages, opts.randomOutages ? rng.fork() : undefined);
  const side = (): Side => ({
    stats: { bytesOnAir: 0, bytesDelivered: 0, bitErrors: 0, bytesLostToOutage: 0, collidedBytes: 0, keyUps: 0, airtimeMs: 0, keyedMs: 0 },
    corrupt: createErrorSource(opts.ber ?? 0, rng.fork()),
    queue: [],
    spans: [],
    air: [],
    jams: [],
    txEnd: -Infinity,
    closed: false,
    dataListeners: [],
    closeListeners: [],
    idleListeners: [],
  });
  const a = side();
  const b = side();
  // Forked after the stations' streams, so that a seed replays the same with or without an attacker.
  const attacker = {
    stats: { injections: 0, bytesOnAir: 0, bytesDelivered: 0, bitErrors: 0, bytesLostToOutage: 0, collidedBytes: 0, jammedBytes: 0, airtimeMs: 0 } as AttackerStats,
    corrupt: createErrorSource(opts.ber ?? 0, rng.fork()),
    queue: [] as Injection[],
    txEnd: -Infinity,
    timer: undefined as Timer | undefined,
  };
  const otherOf = (s: Side) => (s === a ? b : a);

  function write(me: Side, other: Side, data: Uint8Array): void {
    if (me.closed || data.length === 0) return;
    const now = rel();
    if (now >= me.txEnd) {
      const wait = half ? turnaround : 0;
      me.stats.keyUps++;
      me.stats.keyedMs += wait;
      me.txEnd = now + wait;
      if (half) {
        prune(me, other);
        me.spans.push({ from: now, to: me.txEnd });
      }
    }
    const start = me.txEnd;
    const airtime = data.length * byteMs;
    me.txEnd = start + airtime;
    if (half) me.spans[me.spans.length - 1]!.to = me.txEnd;
    me.stats.bytesOnAir += data.length;
    me.stats.airtimeMs += airtime;
    pruneAir(me);
    const last = me.air[me.air.length - 1];
    if (last && last.to >= start - EPS) last.to = me.txEnd;
    else me.air.push({ from: start, to: me.txEnd });
    me.stats.keyedMs += airtime;
    me.queue.push({ start, bytes: new Uint8Array(data), done: 0 }); // a copy: the caller may reuse its buffer
    schedule(me, other);
    if (me.idleListeners.length > 0) armIdle(me);
  }

  /** Sets the timer for the next delivery from `from`, unless one is set or nothing is in flight. */
  function schedule(from: Side, to: Side): void {
    const head = from.queue[0];
    if (from.timer || !head) return;
    let due = head.start + head.bytes.length * byteMs + prop;
    if (quantum > 0) due = Math.ceil((head.start + (head.done + 1) * byteMs + prop) / quantum - EPS) * quantum;
    from.timer = clock.setTimer(Math.max(0, due - rel()), () => {
      from.timer = undefined;
      deliver(from, to, due);
    });
  }

  /** Hands on what has arrived by `due`: the head write, or every byte completed within the quantum. */
  function deliver(from: Side, to: Side, due: number): void {
    const parts: Uint8Array[] = [];
    while (from.queue.length > 0) {
      const seg = from.queue[0]!;
      const n = seg.bytes.length;
      const k = quantum > 0 ? Math.min(n, Math.floor((due - prop - seg.start) / byteMs + EPS)) : n;
      if (k <= seg.done) break;
      parts.push(survivors(from.stats, to, to.jams, seg.start, seg.bytes, seg.done, k));
      seg.done = k;
      if (k < n) break;
      from.queue.shift();
      if (quantum === 0) break;
    }
    prune(to, from);
    schedule(from, to);
    const chunk = parts.length === 1 ? parts[0]! : concat(parts);
    if (chunk.length === 0 || to.closed) return;
    from.stats.bitErrors += from.corrupt(chunk);
    from.stats.bytesDelivered += chunk.length;
    for (const l of to.dataListeners) l(chunk);
  }

  /**
   * Bytes i0..i1 of a transmission that began at `start`, minus those faded out, arriving while the receiver was
   * keyed, or on the air while another transmitter's bytes for the same receiver were (`clash`, send times: the
   * propagation delay is the same for all). Losses are counted in `stats`; station bytes lost to the attacker's
   * (`to.jams`) also in the attacker's `jammedBytes`.
   */
  function survivors(stats: { bytesLostToOutage: number; collidedBytes: number }, to: Side, clash: readonly Interval[], start: number, bytes: Uint8Array, i0: number, i1: number): Uint8Array {
    const s0 = start + i0 * byteMs;
    const s1 = start + i1 * byteMs;
    let fate: Uint8Array | undefined; // per byte: 0 kept, 1 faded, 2 collided (receiver keyed), 3 collided (clash)
    const mark = (t1: number, t2: number, what: number) => {
      const [lo, hi] = byteRange(start, byteMs, i0, i1, t1, t2);
      if (hi <= lo) return;
      fate ??= new Uint8Array(i1 - i0);
      for (let i = lo - i0; i < hi - i0; i++) if (fate[i] === 0) fate[i] = what;
    };
    for (const o of outages.overlapping(s0, s1)) mark(o.from, o.to, 1);
    // The receiver is deaf while keyed: a byte is lost if its arrival overlaps one of the receiver's spans.
    if (half) for (const sp of to.spans) if (sp.from < s1 + prop && sp.to > s0 + prop) mark(sp.from - prop, sp.to - prop, 2);
    for (const c of clash) if (c.from < s1 && c.to > s0) mark(c.from, c.to, 3);
    if (!fate) return bytes.slice(i0, i1);
    const kept = new Uint8Array(i1 - i0);
    let n = 0;
    for (let i = 0; i < fate.length; i++) {
      if (fate[i] === 0) kept[n++] = bytes[i0 + i]!;
      else if (fate[i] === 1) stats.bytesLostToOutage++;
      else {
        stats.collidedBytes++;
        if (fate[i] === 3 && clash === to.jams) attacker.stats.jammedBytes++;
      }
    }
    return kept.subarray(0, n);
  }

  function inject(to: ChannelEnd | 'both', data: Uint8Array): void {
    if (to !== 'a' && to !== 'b' && to !== 'both') throw new RangeError(`channel.inject: to must be 'a', 'b' or 'both', not ${String(to)}`);
    if (data.length === 0) return;
    const start = Math.max(rel(), attacker.txEnd);
    const airtime = data.length * byteMs;
    attacker.txEnd = start + airtime;
    attacker.stats.injections++;
    attacker.stats.bytesOnAir += data.length;
    attacker.stats.airtimeMs += airtime;
    const targets = to === 'both' ? [a, b] : [to === 'a' ? a : b];
    for (const t of targets) t.jams.push({ from: start, to: attacker.txEnd });
    attacker.queue.push({ start, bytes: new Uint8Array(data), targets });
    scheduleInjection();
  }

  /** Sets the timer for the attacker's next transmission to arrive (at the next quantum, with one). */
  function scheduleInjection(): void {
    const head = attacker.queue[0];
    if (attacker.timer || !head) return;
    let due = head.start + head.bytes.length * byteMs + prop;
    if (quantum > 0) due = Math.ceil(due / quantum - EPS) * quantum;
    attacker.timer = clock.setTimer(Math.max(0, due - rel()), () => {
      attacker.timer = undefined;
      const inj = attacker.queue.shift()!;
      for (const to of inj.targets) {
        const other = otherOf(to);
        // What the other station had on the air at the same time reaches this receiver with the attacker's bytes.
        const chunk = survivors(attacker.stats, to, other.air, inj.start, inj.bytes, 0, inj.bytes.length);
        prune(to, other);
        if (chunk.length === 0 || to.closed) continue;
        attacker.stats.bitErrors += attacker.corrupt(chunk);
        attacker.stats.bytesDelivered += chunk.length;
        for (const l of to.dataListeners) l(chunk);
      }
      pruneAir(a);
      pruneAir(b);
      scheduleInjection();
    });
  }

  /** Forgets a side's air time that ended before anything the attacker has (or will have) on the air began. */
  function pruneAir(me: Side): void {
    const horizon = Math.min(rel(), attacker.queue[0]?.start ?? Infinity);
    let drop = 0;
    while (drop < me.air.length && me.air[drop]!.to <= horizon) drop++;
    if (drop > 0) me.air.splice(0, drop);
  }

  /**
   * Forgets the receiver's spans that end before anything still in flight towards it, or still to be sent,
   * arrives; and the attacker's transmissions to it that ended before the sender's next byte went on the air.
   */
  function prune(receiver: Side, sender: Side): void {
    const head = sender.queue[0];
    const injected = attacker.queue.find((i) => i.targets.includes(receiver));
    const horizon = Math.min(head ? Math.min(rel(), head.start + head.done * byteMs + prop) : rel(), injected ? injected.start + prop : Infinity);
    const next = head ? Math.min(rel(), head.start + head.done * byteMs) : rel(); // when the sender's next byte goes on the air
    let drop = 0;
    while (drop < receiver.spans.length && receiver.spans[drop]!.to <= horizon) drop++;
    if (drop > 0) receiver.spans.splice(0, drop);
    drop = 0;
    while (drop < receiver.jams.length && receiver.jams[drop]!.to <= next) drop++;
    if (drop > 0) receiver.jams.splice(0, drop);
  }

  /** Watches the current over to its end; a write that extends it re-arms the watch when it falls due. */
  function armIdle(me: Side): void {
    if (me.idleTimer) return;
    const over = me.stats.keyUps;
    me.idleTimer = clock.setTimer(Math.max(0, me.txEnd - rel()), () => {
      me.idleTimer = undefined;
      if (me.stats.keyUps === over && rel() < me.txEnd) return armIdle(me);
      for (const l of me.idleListeners) l();
      if (rel() < me.txEnd) armIdle(me); // a new over began at the instant the last one ended
    });
  }

  const port = (me: Side, other: Side): SimPort => ({
    stats: me.stats,
    isTransmitting: () => rel() < me.txEnd,
    onIdle(listener) {
      me.idleListeners.push(listener);
      if (rel() < me.txEnd) armIdle(me);
    },
    write: (data) => write(me, other, data),
    onData: (listener) => void me.dataListeners.push(listener),
    onClose: (listener) => void me.closeListeners.push(listener),
    async close() {
      if (me.closed) return;
      me.closed = true;
      me.idleTimer?.cancel();
      for (const l of me.closeListeners) l();
    },
  });

  return { a: port(a, b), b: port(b, a), stats: { aToB: a.stats, bToA: b.stats, attacker: attacker.stats }, outages, inject };
}

/** Indices [lo, hi) within [i0, i1) of the bytes (each byteMs long from `start`) that overlap the interval (a, b). */
export function byteRange(start: number, byteMs: number, i0: number, i1: number, a: number, b: number): [number, number] {
  let lo = Math.max(i0, Math.floor((a - start) / byteMs) - 1);
  while (lo < i1 && !(start + (lo + 1) * byteMs > a)) lo++;
  let hi = Math.min(i1, Math.ceil((b - start) / byteMs) + 1);
  while (hi > lo && !(start + (hi - 1) * byteMs < b)) hi--;
  return [lo, Math.max(lo, hi)];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function resolveOptions(o: ChannelOptions): { byteMs: number; prop: number; turnaround: number; quantum: number; half: boolean } {
  const check = (v: number, name: string, ok: boolean) => {
    if (!ok || !Number.isFinite(v)) throw new RangeError(`channel: ${name} must be a finite number${name === 'bitRate' ? ' above 0' : ' >= 0'}, not ${v}`);
    return v;
  };
  if (o.duplex !== 'half' && o.duplex !== 'full') throw new RangeError(`channel: duplex must be 'half' or 'full', not ${String(o.duplex)}`);
  if (o.asyncFraming && o.bitsPerByte !== undefined && o.bitsPerByte !== 10) throw new RangeError(`channel: asyncFraming means 10 bits per byte, not ${o.bitsPerByte}`);
  const bits = o.bitsPerByte ?? (o.asyncFraming ? 10 : 8);
  if (!Number.isInteger(bits) || bits < 1) throw new RangeError(`channel: bitsPerByte must be a positive integer, not ${bits}`);
  const bitRate = check(o.bitRate, 'bitRate', o.bitRate > 0);
  return {
    byteMs: (bits * 1000) / bitRate,
    prop: check(o.propagationMs ?? 10, 'propagationMs', (o.propagationMs ?? 10) >= 0),
    turnaround: check(o.turnaroundMs ?? 0, 'turnaroundMs', (o.turnaroundMs ?? 0) >= 0),
    quantum: check(o.deliveryQuantumMs ?? 0, 'deliveryQuantumMs', (o.deliveryQuantumMs ?? 0) >= 0),
    half: o.duplex === 'half',
  };
}
