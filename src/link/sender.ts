import { RecordKind, type LinkRecord } from '../codec/link-frame.ts';
import type { OutboundItem, ProgressStore } from './contracts.ts';
import { chooseFrameSize } from './frame-size.ts';
import { bundleHash, REORDER_WINDOW } from './receiver.ts';
import { pickNext, type SchedulerMode } from './scheduler.ts';
import { seqAdd, seqDiff } from './seq.ts';

interface OutTransfer {
  readonly item: OutboundItem;
  /** The bundle bytes and their hash, made when the transfer first opens, and when that was. */
  bytes?: Uint8Array;
  madeAt?: number;
  hash?: Uint8Array;
  xfer: number;
  opened: boolean;
  /** Next byte to send for the first time. */
  nextOffset: number;
  /** Peer turns seen since the transfer was complete and acknowledged, without custody. */
  quietTurns: number;
  /**
   * The peer may hold more than it acknowledged (a restart on either side cut an over short): after the OPEN,
   * wait for its answer (an acknowledgement, or RESUME from what it holds) instead of sending what it has.
   */
  probing: boolean;
}

interface Unacked {
  readonly record: LinkRecord;
  readonly over: number;
  readonly id?: string;
}

/**
 * The sending half of the ARQ and the scheduler: which record goes into the next frame. Retransmissions go
 * first, then control records, then the next segment of the message the scheduler chooses at this frame
 * boundary, so a higher priority arriving mid-over pre-empts at once, and the pre-empted message later goes
 * on from where it stopped.
 */
export class Sender {
  private nextSeq = 0;
  private readonly unacked = new Map<number, Unacked>();
  private retransmit: number[] = [];
  private readonly transfers = new Map<string, OutTransfer>();
  private readonly byXfer = new Map<number, OutTransfer>();
  private nextXfer = 0;
  private readonly control: LinkRecord[] = [];
  /** Overs sent so far; records remember theirs, so a peer's turn tells which ones it has not seen. */
  over = 0;
  frameSize: number;
  private loss = 0;
  private lastSent?: string;
  private okSinceJudged = 0;
  private lostSinceJudged = 0;
  readonly stats = { records: 0, retransmissions: 0, dataBytes: 0 };

  constructor(
    private readonly peer: string,
    private readonly progress: ProgressStore,
    private readonly mode: SchedulerMode,
    private readonly maxFrame: number,
    private readonly window: number,
  ) {
    this.frameSize = maxFrame;
  }

  /** A new session: sequence numbers restart; transfers resume from what the peer acknowledged. */
  reset(): void {
    // Transfers with data on the air unacknowledged: the peer may hold some of it.
    const inFlight = new Set([...this.unacked.values()].filter((u) => u.id !== undefined && (u.record.kind === RecordKind.OPEN || u.record.kind === RecordKind.DATA) && u.record.data.length > 0).map((u) => u.id));
    this.nextSeq = 0;
    this.unacked.clear();
    this.retransmit = [];
    this.control.length = 0;
    this.byXfer.clear();
    for (const t of this.transfers.values()) {
      if (t.opened && inFlight.has(t.item.id)) t.probing = true;
      t.opened = false;
      t.nextOffset = resumeOffset(t, this.progress.sentOffset(this.peer, t.item.id));
    }
  }

  /** Follows the outbound queue: new messages join, confirmed or withdrawn ones leave. */
  sync(items: readonly OutboundItem[]): void {
    const live = new Set(items.map((i) => i.id));
    for (const [id, t] of this.transfers) if (!live.has(id)) this.drop(t);
    for (const item of items) {
      if (this.transfers.has(item.id)) continue;
      // A bundle made by an earlier run was on the air before: the peer may hold more of it than it acknowledged.
      const t: OutTransfer = { item, xfer: -1, opened: false, nextOffset: 0, quietTurns: 0, probing: item.madeAt !== undefined };
      t.nextOffset = resumeOffset(t, this.progress.sentOffset(this.peer, item.id));
      this.transfers.set(item.id, t);
    }
  }

  /** A record from the receiving side (RESUME) that must travel reliably. */
  queueControl(record: LinkRecord): void {
    this.control.push(record);
  }

  /** Withdraws a message whose deadline passed: the receiver is told to drop what it holds. */
  cancel(id: string): void {
    const t = this.transfers.get(id);
    if (!t) return;
    if (t.opened) this.control.push({ kind: RecordKind.CANCEL, xfer: t.xfer });
    this.drop(t);
  }

  custody(id: string): boolean {
    const t = this.transfers.get(id);
    if (!t) return false;
    this.drop(t);
    this.progress.forget(this.peer, id);
    return true;
  }

  private drop(t: OutTransfer): void {
    this.transfers.delete(t.item.id);
    if (t.opened) this.byXfer.delete(t.xfer);
    this.neuter(t.item.id);
  }

  /**
   * Empties the unacknowledged records of a message that no longer needs them. They keep their sequence
   * numbers and are still sent until acknowledged: the receiver applies records in order, so a gap would
   * stall everything behind it.
   */
  private neuter(id: string, keepFrom?: number): void {
    for (const [seq, u] of this.unacked) {
      const r = u.record;
      if (u.id !== id || r.kind === RecordKind.CANCEL || r.kind === RecordKind.RESUME) continue;
      if (keepFrom !== undefined && r.offset < keepFrom) continue;
      this.unacked.set(seq, { record: { kind: RecordKind.DATA, xfer: r.xfer, offset: 0, data: new Uint8Array(0) }, over: u.over });
    }
  }

  /** Whether there is anything to put on the air. */
  hasWork(): boolean {
    return this.retransmit.length > 0 || this.control.length > 0 || (this.windowOpen() && this.choose() !== undefined);
  }

  hasUnacked(): boolean {
    return this.unacked.size > 0;
  }

  /** Messages still held for the peer (no custody yet). */
  pendingIds(): string[] {
    return [...this.transfers.keys()];
  }

  /** Messages whose deadline (BY or ABY) has passed at `now`. */
  expiredIds(now: number): string[] {
    return [...this.transfers.values()].filter((t) => t.item.deadline !== undefined && t.item.deadline <= now).map((t) => t.item.id);
  }

  /** Transfers fully sent and acknowledged but still without custody. */
  private awaitingCustody(): OutTransfer[] {
    const busy = new Set([...this.unacked.values()].map((u) => u.id));
    return [...this.transfers.values()].filter((t) => t.opened && t.nextOffset >= total(t) && !busy.has(t.item.id));
  }

  /**
   * Custody confirmations are not sequenced (they are idempotent), so one can be lost. A transfer that stays
   * without custody for `afterTurns` of the peer's turns is opened again: a receiver that already holds the
   * message answers with custody at once, without taking it twice. Returns how many were reopened.
   */
  reopenQuiet(afterTurns: number): number {
    let n = 0;
    for (const t of this.awaitingCustody()) {
      if (++t.quietTurns < afterTurns) continue;
      t.quietTurns = 0;
      this.byXfer.delete(t.xfer);
      t.opened = false;
      n++;
    }
    return n;
  }

  /** The profile's window, narrowed while loss is heavy so an over is not spent on frames that will be lost. */
  effectiveWindow(): number {
    return Math.max(8, Math.round(this.window * Math.min(1, 1.3 - this.loss)));
  }

  private windowOpen(): boolean {
    const oldest = this.oldestUnacked();
    const span = oldest === undefined ? 0 : seqDiff(this.nextSeq, oldest);
    return this.unacked.size < this.effectiveWindow() && span < REORDER_WINDOW;
  }

  private oldestUnacked(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.unacked.keys()) if (oldest === undefined || seqDiff(seq, oldest) < 0) oldest = seq;
    return oldest;
  }

  private candidates() {
    return [...this.transfers.values()].map((t) => ({
      t,
      id: t.item.id,
      priority: t.item.priority,
      ...(t.item.deadline !== undefined ? { deadline: t.item.deadline } : {}),
      remaining: t.opened ? total(t) - t.nextOffset : Math.max(1, total(t) - t.nextOffset),
      queuedAt: t.item.queuedAt,
    })).filter((c) => c.remaining > 0);
  }

  /**
   * The scheduler's choice for the next segment. None while that message waits for the peer's answer to a
   * probing OPEN: lower priorities do not overtake it, the over ends and the answer comes sooner.
   */
  private choose() {
    const all = this.candidates();
    const choice = pickNext(all, this.mode);
    if (!choice || !(choice.t.opened && choice.t.probing)) return choice;
    // Meanwhile the other probes go out in the same over, so that one answer settles them all; without data,
    // so that a message of lower priority cannot be completed ahead of the one that waits.
    const other = pickNext(all.filter((c) => c.t.probing && !c.t.opened), this.mode);
    return other && { ...other, probeOnly: true };
  }

  /**
   * Whether the message the scheduler would continue next is already under way and ends within `bytes`:
   * an over may run a little long to finish it rather than leave its tail for the next over.
   */
  nextEndsWithin(bytes: number): boolean {
    if (this.retransmit.length || this.control.length || !this.windowOpen()) return false;
    const choice = this.choose();
    return !!choice && choice.t.opened && choice.remaining <= bytes;
  }

  /**
   * The record for the next frame, with its sequence number and the message it carries (if any), or undefined
   * when there is nothing to send.
   */
  next(now = 0): { seq: number; record: LinkRecord; id?: string } | undefined {
    while (this.retransmit.length) {
      const seq = this.retransmit.shift()!;
      const u = this.unacked.get(seq);
      if (!u) continue;
      // A resent OPEN says how old the bundle is now, so the receiver's deadlines stay right.
      const t = u.id !== undefined ? this.transfers.get(u.id) : undefined;
      const record = u.record.kind === RecordKind.OPEN && t?.madeAt !== undefined ? { ...u.record, ageMs: Math.max(0, now - t.madeAt) } : u.record;
      this.unacked.set(seq, { ...u, record, over: this.over });
      this.stats.retransmissions++;
      return u.id === undefined ? { seq, record } : { seq, record, id: u.id };
    }
    const ctl = this.control.shift();
    if (ctl) return this.fresh(ctl);
    if (!this.windowOpen()) return undefined;
    const choice = this.choose();
    if (!choice) return undefined;
    const t = choice.t;
    if (!t.opened) {
      const bytes = materialize(t);
      t.madeAt ??= t.item.madeAt ?? now;
      t.xfer = this.nextXfer;
      this.nextXfer = (this.nextXfer + 1) & 0xffff;
      t.opened = true;
      this.byXfer.set(t.xfer, t);
      this.lastSent = t.item.id;
      // The first segment rides in the OPEN record: a short message is one frame.
      const room = 'probeOnly' in choice ? 0 : Math.max(0, this.frameSize - Buffer.byteLength(t.item.id) - 24);
      const data = bytes.subarray(t.nextOffset, t.nextOffset + room);
      const open: LinkRecord = { kind: RecordKind.OPEN, xfer: t.xfer, total: bytes.length, id: t.item.id, hash: t.hash!, ageMs: Math.max(0, now - t.madeAt!), offset: t.nextOffset, data };
      t.nextOffset += data.length;
      this.stats.dataBytes += data.length;
      return this.fresh(open, t.item.id);
    }
    this.lastSent = t.item.id;
    const data = materialize(t).subarray(t.nextOffset, t.nextOffset + this.frameSize);
    const record: LinkRecord = { kind: RecordKind.DATA, xfer: t.xfer, offset: t.nextOffset, data };
    t.nextOffset += data.length;
    this.stats.dataBytes += data.length;
    return this.fresh(record, t.item.id);
  }

  private fresh(record: LinkRecord, id?: string): { seq: number; record: LinkRecord; id?: string } {
    const seq = this.nextSeq;
    this.nextSeq = seqAdd(seq, 1);
    this.unacked.set(seq, id === undefined ? { record, over: this.over } : { record, over: this.over, id });
    this.stats.records++;
    return id === undefined ? { seq, record } : { seq, record, id };
  }

  /**
   * The peer's acknowledgement. It has seen our overs up to `echo` (mod 256) to their end, so records of those
   * overs that it does not acknowledge are lost and go again; the loss rate also sizes the frames.
   */
  onAck(ack: number, bitmap: Uint8Array, echo: number | null): void {
    const acked = (seq: number) => {
      const d = seqDiff(seq, ack);
      if (d < 0) return true;
      const i = d - 1;
      return i >= 0 && i < bitmap.length * 8 && (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
    };
    const touched = new Set<string>();
    for (const [seq, u] of [...this.unacked]) {
      const judged = echo !== null && ((echo - (u.over & 0xff)) & 0xff) < 128;
      if (acked(seq)) {
        this.unacked.delete(seq);
        if (u.id) touched.add(u.id);
        if (u.id && u.record.kind === RecordKind.OPEN) this.endProbe(u.id);
        this.okSinceJudged++;
      } else if (judged) {
        this.lostSinceJudged++;
        if (!this.retransmit.includes(seq)) this.retransmit.push(seq);
      }
    }
    this.retransmit.sort((a, b) => seqDiff(a, b));
    // Loss is measured per judgement (an over answered), over every acknowledgement since the last one.
    const sent = this.okSinceJudged + this.lostSinceJudged;
    if (echo !== null && sent > 0) {
      this.loss = 0.7 * this.loss + 0.3 * (this.lostSinceJudged / sent);
      this.frameSize = chooseFrameSize(this.frameSize, this.loss, this.maxFrame);
      this.okSinceJudged = 0;
      this.lostSinceJudged = 0;
    }
    for (const id of touched) this.saveProgress(id);
  }

  /** The bytes of a message acknowledged so far: everything before its oldest unacknowledged segment. */
  private saveProgress(id: string): void {
    const t = this.transfers.get(id);
    if (!t) return;
    let acked = t.nextOffset;
    for (const u of this.unacked.values())
      if (u.id === id && (u.record.kind === RecordKind.DATA || u.record.kind === RecordKind.OPEN)) acked = Math.min(acked, u.record.offset);
    this.progress.setSentOffset(this.peer, id, acked);
  }

  private endProbe(id: string): void {
    const t = this.transfers.get(id);
    if (t) t.probing = false;
  }

  onResume(xfer: number, offset: number): void {
    const t = this.byXfer.get(xfer);
    if (!t) return;
    t.probing = false;
    this.neuter(t.item.id, offset);
    t.nextOffset = Math.min(offset, total(t));
    this.progress.setSentOffset(this.peer, t.item.id, t.nextOffset);
  }

  /** No answer came: everything unacknowledged goes again. */
  retransmitAll(): void {
    this.retransmit = [...this.unacked.keys()].sort((a, b) => seqDiff(a, b));
  }

  /** The transfer that sent most recently, for a status display: id, bytes sent and total, priority. */
  current(): { id: string; sent: number; total: number; priority: number } | undefined {
    const t = this.lastSent ? this.transfers.get(this.lastSent) : undefined;
    return t && { id: t.item.id, sent: t.nextOffset, total: total(t), priority: t.item.priority };
  }

  get lossRate(): number {
    return this.loss;
  }

  /** Marks the end of an over: records sent from now on belong to the next one. */
  endOver(): void {
    this.over++;
  }
}

/** Where a transfer goes on: what the peer acknowledged, checked against the bundle once it is made. */
function resumeOffset(t: OutTransfer, acked: number): number {
  return t.bytes || typeof t.item.bundle !== 'function' ? Math.min(acked, total(t)) : acked;
}

/** The transfer's bundle, made on first use. */
function materialize(t: OutTransfer): Uint8Array {
  if (!t.bytes) {
    const b = t.item.bundle;
    t.bytes = typeof b === 'function' ? b() : b;
    t.hash = bundleHash(t.bytes);
    if (t.nextOffset > t.bytes.length) t.nextOffset = 0;
  }
  return t.bytes;
}

/** Bytes in the transfer: exact once made, the item's estimate before. */
function total(t: OutTransfer): number {
  if (t.bytes) return t.bytes.length;
  const b = t.item.bundle;
  return typeof b === 'function' ? (t.item.size ?? 1) : b.length;
}
