import { bundleContext, bundleStream, CONTEXT_BYTES, isZstdDictionary } from '../codec/index.ts';
import { RecordKind, type LinkRecord } from '../codec/link-frame.ts';
import type { OutboundItem, ProgressStore } from './contracts.ts';
import { deferralMs, expiryAction, windowFor } from './decisions.ts';
import { berFrom, bestFrameSize, frameSizeGrid, LossEstimator, type FrameSizes } from './loss-estimator.ts';
import { bundleHash, REORDER_WINDOW } from './receiver.ts';
import { pickNext, type SchedulerMode } from './scheduler.ts';
import { TransferIndex } from './transfer-index.ts';
import { seqAdd, seqDiff } from './seq.ts';
import { SessionHistory, STREAM_LIMITS } from './session-history.ts';

/**
 * Where a message stands with the peer. `sending`: its bytes go as the scheduler chooses. `cancelling`: its
 * deadline passed and CANCEL was sent; it stays here, keeping the link awake, until the peer answers CANCELLED
 * (withdrawn) or CUSTODY (it had it already): only that answer decides the outcome. `deferred`: the peer refused
 * it for a transient reason; offered again after a back-off.
 */
type TransferState = 'sending' | 'cancelling' | 'deferred';

interface OutTransfer {
  readonly item: OutboundItem;
  state: TransferState;
  /** The bundle bytes and their hash, made when the transfer first opens, and when that was. */
  bytes?: Uint8Array;
  madeAt?: number;
  hash?: Uint8Array;
  /** The session slots the bundle was compressed against (0: none): such a bundle lives only in this session. */
  context: number;
  /** What the bundle carries, inflated: added to the session's history once the peer holds the message. */
  stream?: Uint8Array;
  /** The peer could not rebuild the history a bundle named: the next one is made without. */
  contextless: boolean;
  xfer: number;
  opened: boolean;
  /**
   * Some bundle of it went on the air (in this run, or, by its stored bundle, an earlier one): the peer may hold
   * it, whatever happened to the bytes since (a bundle made again for a new session keeps this).
   */
  onAir: boolean;
  /** Next byte to send for the first time. */
  nextOffset: number;
  /** Peer turns seen since the transfer was complete and acknowledged, without custody. */
  quietTurns: number;
  /**
   * The peer may hold more than it acknowledged (a restart on either side cut an over short): after the OPEN,
   * wait for its answer (an acknowledgement, or RESUME from what it holds) instead of sending what it has.
   */
  probing: boolean;
  /** Deferred: when to offer it again, and how many transient refusals so far. */
  retryAt: number;
  deferrals: number;
  /** Bumped whenever the transfer is filed anew: older entries of it in the heaps are stale. */
  stamp: number;
}

interface Unacked {
  readonly record: LinkRecord;
  readonly over: number;
  readonly id?: string;
  /** Sent again after a loss. */
  readonly resent?: boolean;
  /** Frame bytes as it went on the air, when the record was since emptied (its message settled): what the loss estimate weighs. */
  readonly sentBytes?: number;
  /** Times it was sent again after being judged lost. */
  readonly tries?: number;
}

/** Bytes of a record sent again that no longer fit the frame size: they go as records of their own. */
interface Spill {
  readonly id: string;
  readonly xfer: number;
  readonly offset: number;
  readonly data: Uint8Array;
}

/** Frames heard during the hello: how many arrived damaged and how many whole, of about `bytes` each. */
export interface HelloSample {
  readonly damaged: number;
  readonly whole: number;
  readonly bytes: number;
}

/** A cautious first size: a collision also damages a frame, so two whole frames are presumed besides those heard. */
function firstFrameSize(h: HelloSample, maxFrame: number, sizes: FrameSizes): number {
  return bestFrameSize(berFrom(h.damaged, h.damaged + h.whole + 2, 8 * h.bytes), maxFrame, sizes);
}

/** Expected loss of a frame above which the oldest unacknowledged record goes twice in an over. */
const HOL_REPEAT_LOSS = 0.2;

/** What an answer from the peer decided about a message: the station reports it to the outbound source. */
export type Settled =
  | { readonly outcome: 'custody'; readonly id: string }
  | { readonly outcome: 'withdrawn'; readonly id: string }
  | { readonly outcome: 'refused'; readonly id: string; readonly status: string; readonly text: string }
  | { readonly outcome: 'deferred'; readonly id: string; readonly status: string; readonly text: string; readonly retryInMs: number };

/** What this session may use: our limits narrowed by the peer's hello. */
export interface SessionLimits {
  readonly maxFrame: number;
  readonly window: number;
  readonly dictionaries: readonly number[];
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
  private readonly transfers: TransferIndex<OutTransfer>;
  private readonly byXfer = new Map<number, OutTransfer>();
  private nextXfer = 0;
  /**
   * Every transfer number given in this session, and its message: the peer may confirm custody by number. Only
   * while numbers are not reused: once they wrap (65,536 transfers in one session) a number could name two
   * messages, and a recorded CUSTODY replayed could confirm the wrong one, so confirmations by number are ignored.
   */
  private readonly xferIds = new Map<number, string>();
  private xfersWrapped = false;
  private readonly control: LinkRecord[] = [];
  private spill: Spill[] = [];
  /** Overs sent so far; records remember theirs, so a peer's turn tells which ones it has not seen. */
  over = 0;
  frameSize: number;
  private limits: SessionLimits;
  private readonly loss: LossEstimator;
  private lastSent?: string;
  /** Messages the peer holds in this session, by its custody slot: what new bundles may be compressed against. */
  readonly history = new SessionHistory();
  readonly stats = { records: 0, retransmissions: 0, dataBytes: 0, resegmented: 0, remade: 0 };

  constructor(
    private readonly peer: string,
    private readonly progress: ProgressStore,
    private readonly mode: SchedulerMode,
    private readonly own: SessionLimits,
    private readonly now: () => number,
    /** The data sizes frames may have (those that fit the modem's FEC blocks; frameSizeGrid otherwise). */
    private readonly sizes: FrameSizes = frameSizeGrid,
  ) {
    this.limits = own;
    this.frameSize = own.maxFrame;
    this.loss = new LossEstimator(sizes);
    this.transfers = new TransferIndex(mode, (t) => Math.max(1, total(t) - t.nextOffset));
  }

  /**
   * A new session, with the peer's limits: sequence numbers restart; transfers resume from what the peer
   * acknowledged; withdrawals still unanswered are asked again.
   */
  reset(peer?: SessionLimits, heard?: HelloSample): void {
    this.limits = peer
      ? { maxFrame: Math.min(this.own.maxFrame, peer.maxFrame), window: Math.min(this.own.window, Math.max(1, peer.window)), dictionaries: peer.dictionaries }
      : this.own;
    this.frameSize = Math.min(this.frameSize, this.limits.maxFrame);
    if (peer) this.frameSize = this.loss.frameSize(this.limits.maxFrame, this.frameSize);
    // Before any data has been judged, damaged frames heard during the hello say the channel is noisy: start
    // with the frames that suit it instead of spending a whole over on large frames that will all be lost.
    if (heard && heard.damaged >= 2 && !this.loss.hasEstimate) this.frameSize = Math.min(this.frameSize, firstFrameSize(heard, this.limits.maxFrame, this.sizes));
    // Transfers with data on the air unacknowledged: the peer may hold some of it.
    const inFlight = new Set([...this.unacked.values()].filter((u) => u.id !== undefined && isData(u.record) && u.record.data.length > 0).map((u) => u.id));
    this.nextSeq = 0;
    this.unacked.clear();
    this.retransmit = [];
    this.control.length = 0;
    this.spill = [];
    this.byXfer.clear();
    this.xferIds.clear();
    this.xfersWrapped = false;
    this.nextXfer = 0;
    this.history.reset();
    for (const t of this.transfers.values()) {
      // A bundle compressed against the old session's history cannot be decoded in this one: made again.
      if (t.context > 0 && t.state !== 'cancelling') this.unmake(t);
      if (t.opened && inFlight.has(t.item.id)) t.probing = true;
      t.opened = false;
      t.quietTurns = 0;
      t.nextOffset = resumeOffset(t, this.progress.sentOffset(this.peer, t.item.id));
      if (t.state === 'cancelling') this.control.push({ kind: RecordKind.CANCEL, id: t.item.id });
    }
    this.transfers.fileAll();
  }

  /** Follows the outbound queue: new messages join, confirmed or withdrawn ones leave. */
  sync(items: readonly OutboundItem[]): void {
    const live = new Set(items.map((i) => i.id));
    for (const t of [...this.transfers.values()]) if (!live.has(t.item.id)) this.drop(t);
    this.add(items);
  }

  /** New messages join (those already here stay as they are). */
  add(items: readonly OutboundItem[]): void {
    for (const item of items) {
      if (this.transfers.get(item.id)) continue;
      // A bundle made by an earlier run was on the air before: the peer may hold more of it than it acknowledged.
      const t: OutTransfer = { item, state: 'sending', context: 0, contextless: false, xfer: -1, opened: false, onAir: item.madeAt !== undefined, nextOffset: 0, quietTurns: 0, probing: item.madeAt !== undefined, retryAt: 0, deferrals: 0, stamp: 0 };
      t.nextOffset = resumeOffset(t, this.progress.sentOffset(this.peer, item.id));
      this.transfers.add(t);
    }
  }

  /** A record from the receiving side (RESUME, CANCELLED, REFUSE) that must travel reliably. */
  queueControl(record: LinkRecord): void {
    this.control.push(record);
  }

  /**
   * A message's deadline passed. One that never went on the air (no bundle made, in this run or an earlier
   * one) is withdrawn at once; otherwise the peer may hold it, so CANCEL asks, and the answer decides.
   */
  cancel(id: string): 'withdrawn' | 'asked' | 'unknown' {
    const t = this.transfers.get(id);
    if (!t) return 'unknown';
    if (t.state === 'cancelling') return 'asked';
    t.quietTurns = 0;
    // On the air in this run (opened) or, by its stored bundle, in an earlier one (both set `onAir`), or
    // acknowledged in part by the peer according to the progress kept.
    if (expiryAction(t.onAir || this.progress.sentOffset(this.peer, id) > 0) === 'withdraw') {
      this.drop(t);
      return 'withdrawn';
    }
    this.close(t);
    t.state = 'cancelling';
    this.transfers.file(t);
    this.neuter(id);
    this.control.push({ kind: RecordKind.CANCEL, id });
    return 'asked';
  }

  /** The message a custody confirmation by transfer number names, if numbers still name one message each. */
  idOfXfer(xfer: number): string | undefined {
    return this.xfersWrapped ? undefined : this.xferIds.get(xfer);
  }

  /** CUSTODY from the peer (with the slot it gave the message in this session's history): true when it settles a message of ours. */
  custody(id: string, slot = 0): boolean {
    const t = this.transfers.get(id);
    if (!t) return false;
    if (slot > 0 && t.stream) this.history.add(slot, t.stream);
    this.settle(t);
    return true;
  }

  /** An answer record from the peer's receiver: what it decided, if it settles or defers a message. */
  onAnswer(r: LinkRecord): Settled | undefined {
    if (r.kind === RecordKind.RESUME) return void this.onResume(r.xfer, r.offset);
    if (r.kind !== RecordKind.CANCELLED && r.kind !== RecordKind.REFUSE) return undefined;
    const t = this.transfers.get(r.id);
    if (!t) return undefined;
    if (r.kind === RecordKind.CANCELLED) {
      if (t.state !== 'cancelling') return undefined; // we did not ask (a forged or stale answer cannot withdraw mail)
      this.settle(t);
      return { outcome: 'withdrawn', id: r.id };
    }
    if (r.status.startsWith('5')) {
      this.settle(t);
      // The peer's deadline refusal is the same outcome as a withdrawal (DSN, or the alternate recipient).
      return r.status.endsWith('.4.7') ? { outcome: 'withdrawn', id: r.id } : { outcome: 'refused', id: r.id, status: r.status, text: r.text };
    }
    if (t.state === 'cancelling') return undefined; // the CANCEL is answered separately
    if (t.context > 0 && r.status.startsWith('4.6.')) {
      // The peer could not rebuild the history the bundle names (it restarted, or let those slots go): the
      // same message goes again at once, compressed without it.
      this.close(t);
      t.contextless = true;
      this.unmake(t);
      this.neuter(r.id);
      this.transfers.file(t);
      return undefined;
    }
    const retryInMs = deferralMs(t.deferrals++);
    this.close(t);
    t.state = 'deferred';
    t.retryAt = this.now() + retryInMs;
    this.transfers.file(t);
    this.neuter(r.id);
    return { outcome: 'deferred', id: r.id, status: r.status, text: r.text, retryInMs };
  }

  /** The peer's word settled the message: the transfer and its saved progress go. */
  private settle(t: OutTransfer): void {
    this.drop(t);
    this.progress.forget(this.peer, t.item.id);
  }

  private drop(t: OutTransfer): void {
    this.transfers.remove(t);
    this.close(t);
    this.neuter(t.item.id);
  }

  /** The transfer is no longer open under its number (it is opened again, under a new one, when it goes on). */
  private close(t: OutTransfer): void {
    if (t.opened) this.byXfer.delete(t.xfer);
    t.opened = false;
  }

  /**
   * Empties the unacknowledged records of a message that no longer needs them. They keep their sequence
   * numbers and are still sent until acknowledged: the receiver applies records in order, so a gap would
   * stall everything behind it.
   */
  private neuter(id: string, keepFrom?: number): void {
    for (const [seq, u] of this.unacked) {
      const r = u.record;
      if (u.id !== id || !isData(r)) continue;
      if (keepFrom !== undefined && r.offset < keepFrom) continue;
      this.unacked.set(seq, { record: { kind: RecordKind.DATA, xfer: r.xfer, offset: 0, data: new Uint8Array(0) }, over: u.over, sentBytes: u.sentBytes ?? recordBytes(r) });
    }
    this.spill = this.spill.filter((s) => s.id !== id || (keepFrom !== undefined && s.offset < keepFrom));
  }

  /**
   * Whether everything there is to send (records to send again, control records, the rest of every message)
   * comes to at most `bytes` of data: an over may then run a little long to empty the queue. Stops counting as
   * soon as it is more, so a large backlog costs little.
   */
  allWorkWithin(bytes: number): boolean {
    if (bytes <= 0 || !this.windowOpen()) return false;
    let sum = this.control.length * 64;
    for (const seq of this.retransmit) {
      const u = this.unacked.get(seq);
      sum += u && isData(u.record) ? Math.max(64, u.record.data.length) : 64;
    }
    for (const s of this.spill) sum += s.data.length;
    if (sum > bytes) return false;
    for (const t of this.transfers.values()) {
      if (t.state !== 'sending') continue;
      sum += Math.max(0, total(t) - t.nextOffset) + (t.opened ? 0 : 64);
      if (sum > bytes) return false;
    }
    return true;
  }

  /** Whether there is anything to put on the air. */
  hasWork(): boolean {
    return this.retransmit.length > 0 || this.control.length > 0 || (this.windowOpen() && (this.spill.length > 0 || this.choose() !== undefined));
  }

  hasUnacked(): boolean {
    return this.unacked.size > 0;
  }

  /** The most times a record still unacknowledged was sent again after being judged lost. */
  maxTries(): number {
    let n = 0;
    for (const u of this.unacked.values()) n = Math.max(n, u.tries ?? 0);
    return n;
  }

  /**
   * Messages whose outcome waits for the peer's word: complete and acknowledged without custody yet, or
   * withdrawn without CANCELLED yet. They keep the link awake (an over is not idle while they wait).
   */
  awaitingAnswer(): number {
    let n = this.transfers.cancelling.size;
    for (const t of this.transfers.open) if (this.isAwaitingCustody(t)) n++;
    return n;
  }

  /** How many messages are held for the peer. */
  get pendingCount(): number {
    return this.transfers.size;
  }

  /**
   * Bytes still to send of every message that goes before a new one of `priority`: those of that priority and
   * above, and what is left of the current frame's message (pre-emption waits for a frame boundary). A scan of
   * the backlog, for admission estimates at RCPT, not for every frame.
   */
  bytesAhead(priority: number): number {
    let bytes = 0;
    for (const t of this.transfers.values()) if (t.item.priority >= priority && t.state !== 'cancelling') bytes += Math.max(0, total(t) - t.nextOffset);
    const cur = this.lastSent ? this.transfers.get(this.lastSent) : undefined;
    if (cur && cur.item.priority < priority) bytes += Math.min(this.frameSize, Math.max(0, total(cur) - cur.nextOffset));
    return bytes;
  }

  /** Messages whose deadline (BY or ABY) has passed at `now` and that are not being withdrawn already. */
  expiredIds(now: number): string[] {
    return this.transfers.expired(now).map((t) => t.item.id);
  }

  /** The next moment something is due without the peer's help: a deadline, or a deferred message's retry. */
  nextWakeAt(): number | undefined {
    this.wakeDeferred(this.now());
    return this.transfers.nextWakeAt();
  }

  /** Deferred messages whose back-off is over are offered again. */
  private wakeDeferred(now: number): void {
    for (const t of this.transfers.dueDeferred(now)) {
      t.state = 'sending';
      this.transfers.file(t);
    }
  }

  private isAwaitingCustody(t: OutTransfer): boolean {
    if (t.state !== 'sending' || !t.opened || t.nextOffset < total(t)) return false;
    for (const u of this.unacked.values()) if (u.id === t.item.id) return false;
    return !this.spill.some((s) => s.id === t.item.id);
  }

  /**
   * Custody confirmations are not sequenced (they are idempotent), so one can be lost. A transfer that stays
   * without custody for `afterTurns` of the peer's turns is opened again: a receiver that already holds the
   * message answers with custody at once, without taking it twice. Returns how many were reopened.
   */
  reopenQuiet(afterTurns: number): number {
    let n = 0;
    for (const t of [...this.transfers.cancelling, ...this.transfers.open]) {
      if (t.state === 'cancelling') {
        // The answer to a CANCEL can be a CUSTODY frame, which is not sequenced: ask again if it got lost.
        if (this.cancelPending(t.item.id) || ++t.quietTurns < afterTurns) continue;
        t.quietTurns = 0;
        this.control.push({ kind: RecordKind.CANCEL, id: t.item.id });
        n++;
        continue;
      }
      if (!this.isAwaitingCustody(t) || ++t.quietTurns < afterTurns) continue;
      t.quietTurns = 0;
      this.close(t);
      this.transfers.file(t);
      n++;
    }
    return n;
  }

  /** A CANCEL for the message is queued or on the air unacknowledged. */
  private cancelPending(id: string): boolean {
    if (this.control.some((c) => c.kind === RecordKind.CANCEL && c.id === id)) return true;
    for (const u of this.unacked.values()) if (u.record.kind === RecordKind.CANCEL && u.record.id === id) return true;
    return false;
  }

  /** The session's window, narrowed while loss is heavy so an over is not spent on frames that will be lost. */
  effectiveWindow(): number {
    return windowFor(this.limits.window, this.loss.frameLoss(this.frameSize));
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

  /** The highest priority among messages with data on the air not yet acknowledged (or cut to be sent again). */
  private inFlightPriority(): number {
    let p = -Infinity;
    for (const u of this.unacked.values()) if (u.id !== undefined && isData(u.record) && u.record.data.length > 0) p = Math.max(p, this.transfers.get(u.id)?.item.priority ?? -Infinity);
    for (const s of this.spill) p = Math.max(p, this.transfers.get(s.id)?.item.priority ?? -Infinity);
    return p;
  }

  private candidateOf(t: OutTransfer, holdBelow: number) {
    const remaining = t.opened ? total(t) - t.nextOffset : Math.max(1, total(t) - t.nextOffset);
    if (remaining <= 0) return undefined;
    // A message is not completed ahead of a higher priority whose lost pieces still have to go again: its last
    // segment waits (priority order holds at the receiver, at the cost of one frame of this over).
    if (t.item.priority < holdBelow && remaining <= (t.opened ? this.frameSize : this.openRoom(t.item.id))) return undefined;
    return { t, id: t.item.id, priority: t.item.priority, ...(t.item.deadline !== undefined ? { deadline: t.item.deadline } : {}), remaining, queuedAt: t.item.queuedAt };
  }

  /**
   * The scheduler's choice for the next segment: the best of the transfers under way (a few) and the best
   * waiting to open (the top of the heap). None while that message waits for the peer's answer to a probing
   * OPEN: lower priorities do not overtake it, the over ends and the answer comes sooner.
   */
  private choose() {
    this.wakeDeferred(this.now());
    const holdBelow = this.mode === 'priority' ? this.inFlightPriority() : -Infinity;
    const under: NonNullable<ReturnType<Sender['candidateOf']>>[] = [];
    for (const t of this.transfers.open) {
      const c = this.candidateOf(t, holdBelow);
      if (c) under.push(c);
    }
    // The best waiting to open, passing over (for now) those held below a priority.
    const top = this.transfers.bestReady((t) => this.candidateOf(t, holdBelow));
    if (top) under.push(top);
    const choice = pickNext(under, this.mode);
    if (!choice || !(choice.t.opened && choice.t.probing)) return choice;
    // Meanwhile the other probes go out in the same over, so that one answer settles them all; without data,
    // so that a message of lower priority cannot be completed ahead of the one that waits.
    const probes = this.transfers.readyProbes().map((t) => this.candidateOf(t, -Infinity)).filter((c) => c !== undefined);
    const other = pickNext(probes, this.mode);
    return other && { ...other, probeOnly: true };
  }

  /**
   * Whether the message the scheduler would continue next is already under way and ends within `bytes`:
   * an over may run a little long to finish it rather than leave its tail for the next over.
   */
  nextEndsWithin(bytes: number): boolean {
    if (this.retransmit.length || this.control.length || this.spill.length || !this.windowOpen()) return false;
    const choice = this.choose();
    return !!choice && choice.t.opened && choice.remaining <= bytes;
  }

  /**
   * The record for the next frame, with its sequence number and the message it carries (if any), or undefined
   * when there is nothing to send.
   */
  next(now = this.now()): { seq: number; record: LinkRecord; id?: string } | undefined {
    while (this.retransmit.length) {
      const seq = this.retransmit.shift()!;
      const u = this.unacked.get(seq);
      if (!u) continue;
      const record = this.again(u, now);
      const { sentBytes: _emptied, ...sent } = u; // what goes now is what is weighed
      this.unacked.set(seq, { ...sent, record, over: this.over, resent: true, tries: (u.tries ?? 0) + 1 });
      this.stats.retransmissions++;
      return u.id === undefined ? { seq, record } : { seq, record, id: u.id };
    }
    const ctl = this.control.shift();
    if (ctl) return this.fresh(ctl);
    const hol = this.repeatHeadOfLine();
    if (hol) return hol;
    if (!this.windowOpen()) return undefined;
    const s = this.spill.shift();
    if (s) return this.fresh({ kind: RecordKind.DATA, xfer: s.xfer, offset: s.offset, data: s.data }, s.id);
    const choice = this.choose();
    if (!choice) return undefined;
    const t = choice.t;
    if (!t.opened) {
      const bytes = this.materialize(t);
      t.madeAt ??= t.item.madeAt ?? now;
      t.xfer = this.nextXfer;
      this.nextXfer = (this.nextXfer + 1) & 0xffff;
      if (this.nextXfer === 0) this.xfersWrapped = true;
      if (!this.xfersWrapped) this.xferIds.set(t.xfer, t.item.id);
      t.opened = true;
      t.onAir = true;
      this.transfers.file(t);
      this.byXfer.set(t.xfer, t);
      this.lastSent = t.item.id;
      // The first segment rides in the OPEN record: a short message is one frame.
      const room = 'probeOnly' in choice ? 0 : this.openRoom(t.item.id);
      const data = bytes.subarray(t.nextOffset, t.nextOffset + room);
      const open: LinkRecord = {
        kind: RecordKind.OPEN,
        xfer: t.xfer,
        total: bytes.length,
        id: t.item.id,
        hash: t.hash!,
        ageMs: Math.max(0, now - t.madeAt!),
        deadlineMs: deadlineIn(t, now),
        offset: t.nextOffset,
        data,
      };
      t.nextOffset += data.length;
      this.stats.dataBytes += data.length;
      return this.fresh(open, t.item.id);
    }
    this.lastSent = t.item.id;
    const data = this.materialize(t).subarray(t.nextOffset, t.nextOffset + this.frameSize);
    const record: LinkRecord = { kind: RecordKind.DATA, xfer: t.xfer, offset: t.nextOffset, data };
    t.nextOffset += data.length;
    this.stats.dataBytes += data.length;
    return this.fresh(record, t.item.id);
  }

  /**
   * The oldest unacknowledged record goes twice in an over when it was lost before or the channel is lossy: the
   * receiver applies records in order, so while it is missing nothing behind it counts, and each loss of it
   * costs a whole over.
   */
  private repeatHeadOfLine(): { seq: number; record: LinkRecord; id?: string } | undefined {
    if (this.holRepeated === this.over) return undefined;
    const seq = this.oldestUnacked();
    const u = seq === undefined ? undefined : this.unacked.get(seq);
    if (seq === undefined || !u || u.over !== this.over) return undefined;
    if (!u.resent && this.loss.frameLoss(recordBytes(u.record) - 18) < HOL_REPEAT_LOSS) return undefined;
    this.holRepeated = this.over;
    this.stats.retransmissions++;
    return u.id === undefined ? { seq, record: u.record } : { seq, record: u.record, id: u.id };
  }
  private holRepeated = -1;
  /** Records acknowledged or found lost since the last judgement. */
  private sinceJudged: { seq: number; bytes: number; lost: boolean }[] = [];

  private openRoom(id: string): number {
    return Math.max(0, this.frameSize - Buffer.byteLength(id) - 28);
  }

  /**
   * A record sent again: an OPEN says how old the bundle is now (so the receiver's deadlines stay right); a
   * segment larger than today's frame size is cut to it, and the rest goes as records of its own (the receiver
   * holds segments that arrive beyond a gap until it fills).
   */
  private again(u: Unacked, now: number): LinkRecord {
    const r = u.record;
    const t = u.id !== undefined ? this.transfers.get(u.id) : undefined;
    if (!t || !isData(r)) return r;
    const room = r.kind === RecordKind.OPEN ? this.openRoom(t.item.id) : this.frameSize;
    let out: LinkRecord = r.kind === RecordKind.OPEN && t.madeAt !== undefined ? { ...r, ageMs: Math.max(0, now - t.madeAt), deadlineMs: deadlineIn(t, now) } : r;
    if (r.data.length > room && room > 0) {
      const rest = r.data.subarray(room);
      for (let i = 0; i < rest.length; i += this.frameSize)
        this.spill.push({ id: t.item.id, xfer: r.xfer, offset: r.offset + room + i, data: rest.subarray(i, i + this.frameSize) });
      out = { ...out, data: r.data.subarray(0, room) } as LinkRecord;
      this.stats.resegmented++;
    }
    return out;
  }

  private fresh(record: LinkRecord, id?: string): { seq: number; record: LinkRecord; id?: string } {
    const seq = this.nextSeq;
    this.nextSeq = seqAdd(seq, 1);
    this.unacked.set(seq, id === undefined ? { record, over: this.over } : { record, over: this.over, id });
    this.stats.records++;
    return id === undefined ? { seq, record } : { seq, record, id };
  }

  /**
   * The peer's acknowledgement. It has seen our overs up to `echo` (mod 256), so records of those overs that
   * it does not acknowledge are lost and go again; what was lost, and how, also sizes the frames.
   */
  onAck(ack: number, bitmap: Uint8Array, echo: number | null): void {
    const acked = (seq: number) => {
      const d = seqDiff(seq, ack);
      if (d < 0) return true;
      const i = d - 1;
      return i >= 0 && i < bitmap.length * 8 && (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
    };
    const touched = new Set<string>();
    const judgedNow: { seq: number; bytes: number; lost: boolean }[] = [];
    for (const [seq, u] of [...this.unacked]) {
      const judged = echo !== null && ((echo - (u.over & 0xff)) & 0xff) < 128;
      if (acked(seq)) {
        this.unacked.delete(seq);
        if (u.id) touched.add(u.id);
        if (u.id && u.record.kind === RecordKind.OPEN) this.endProbe(u.id);
        judgedNow.push({ seq, bytes: u.sentBytes ?? recordBytes(u.record), lost: false });
      } else if (judged) {
        judgedNow.push({ seq, bytes: u.sentBytes ?? recordBytes(u.record), lost: true });
        if (!this.retransmit.includes(seq)) this.retransmit.push(seq);
      }
    }
    this.retransmit.sort((a, b) => seqDiff(a, b));
    // Acknowledgements before the peer's turn (its over starts with one) count at the judgement that follows.
    this.sinceJudged.push(...judgedNow);
    if (echo !== null && this.sinceJudged.length > 0) {
      this.sinceJudged.sort((a, b) => seqDiff(a.seq, b.seq));
      this.loss.judge(this.sinceJudged);
      this.sinceJudged = [];
      this.frameSize = this.loss.frameSize(this.limits.maxFrame, this.frameSize);
    }
    for (const id of touched) this.saveProgress(id);
  }

  /** The bytes of a message acknowledged so far: everything before its oldest unacknowledged segment. */
  private saveProgress(id: string): void {
    const t = this.transfers.get(id);
    if (!t) return;
    let acked = t.nextOffset;
    for (const u of this.unacked.values()) if (u.id === id && isData(u.record)) acked = Math.min(acked, u.record.offset);
    for (const s of this.spill) if (s.id === id) acked = Math.min(acked, s.offset);
    this.progress.setSentOffset(this.peer, id, acked);
  }

  private endProbe(id: string): void {
    const t = this.transfers.get(id);
    if (t) t.probing = false;
  }

  private onResume(xfer: number, offset: number): void {
    const t = this.byXfer.get(xfer);
    if (!t || t.state !== 'sending') return;
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
    return this.loss.frameLoss(this.frameSize);
  }

  /** Whether the loss rate is measured (enough records judged), not merely presumed nil. */
  get lossMeasured(): boolean {
    return this.loss.hasEstimate;
  }

  /** Marks the end of an over: records sent from now on belong to the next one. */
  endOver(): void {
    this.over++;
  }

  /**
   * The transfer's bundle, made on first use for the dictionaries the peer holds, offered this session's history
   * (docs/protocol.md, "Session context"). Its stream is kept for the history, to be added once the peer holds it.
   */
  private materialize(t: OutTransfer): Uint8Array {
    if (!t.bytes) {
      const b = t.item.bundle;
      const offered = t.contextless ? undefined : this.history.offer();
      t.bytes = typeof b === 'function' ? b.call(t.item, this.limits.dictionaries, offered) : b; // a method of the item, or a function
      if (offered && typeof b === 'function') t.madeAt = this.now(); // made now, by the contract, against this history
      // A bundle made anew (a kept one was void) starts from its first byte: its store says so.
      if (typeof b === 'function') t.nextOffset = Math.min(t.nextOffset, this.progress.sentOffset(this.peer, t.item.id));
      t.hash = bundleHash(t.bytes);
      t.context = bundleContext(t.bytes)?.count ?? 0;
      // Only a peer with a zstd dictionary compresses against a history.
      if (this.limits.dictionaries.some(isZstdDictionary)) {
        const stream = bundleStream(t.bytes, t.context > 0 ? offered?.history : undefined, STREAM_LIMITS);
        if (stream instanceof Uint8Array) t.stream = stream.length > CONTEXT_BYTES ? Uint8Array.prototype.slice.call(stream, stream.length - CONTEXT_BYTES) : stream;
      }
      if (t.nextOffset > t.bytes.length) t.nextOffset = 0;
    }
    return t.bytes;
  }

  /** Forgets a bundle made against a history that is gone: the next open makes it again, from its first byte. */
  private unmake(t: OutTransfer): void {
    delete t.bytes;
    delete t.hash;
    delete t.stream;
    delete t.madeAt;
    t.context = 0;
    t.nextOffset = 0;
    t.probing = false;
    this.stats.remade++;
    this.progress.setSentOffset(this.peer, t.item.id, 0);
  }
}

function isData(r: LinkRecord): r is Extract<LinkRecord, { kind: typeof RecordKind.OPEN | typeof RecordKind.DATA }> {
  return r.kind === RecordKind.OPEN || r.kind === RecordKind.DATA;
}

/** Bytes of a record's frame before KISS, for the loss estimate (what the bit errors had to hit). */
function recordBytes(r: LinkRecord): number {
  return 18 + (isData(r) ? r.data.length + (r.kind === RecordKind.OPEN ? r.id.length + 14 : 0) : 4);
}

/** The OPEN's deadline field: ms from now until the sender withdraws it, 0 for none (1 once it is due). */
function deadlineIn(t: OutTransfer, now: number): number {
  return t.item.deadline === undefined ? 0 : Math.max(1, Math.ceil(t.item.deadline - now));
}

/** Where a transfer goes on: what the peer acknowledged, checked against the bundle once it is made. */
function resumeOffset(t: OutTransfer, acked: number): number {
  return t.bytes || typeof t.item.bundle !== 'function' ? Math.min(acked, total(t)) : acked;
}

/** Bytes in the transfer: exact once made, the item's estimate before. */
function total(t: OutTransfer): number {
  if (t.bytes) return t.bytes.length;
  const b = t.item.bundle;
  return typeof b === 'function' ? (t.item.size ?? 1) : b.length;
}
