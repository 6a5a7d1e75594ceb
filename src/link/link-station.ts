import { DEFAULT_MAX_BUNDLE_BYTES, type Clock, type Random, type Timer } from '../core/index.ts';
import { bundleContext, bundleStream } from '../codec/bundle.ts';
import { KissDecoder } from '../codec/kiss.ts';
import {
  CtrlFlag,
  DATA_OVERHEAD,
  decodeHello,
  decodeSession,
  encodeHello,
  encodeSession,
  FrameType,
  isFrameError,
  NONCE_BYTES,
  peekType,
  PROTOCOL_VERSION,
  RecordKind,
  type HelloFrame,
  type SessionFrame,
} from '../codec/link-frame.ts';
import { deliveryEstimateMs, frameSizesFor, MARGIN_MS, type DeliveryModel } from './air-time.ts';
import { LinkRefusal, type InboundSink, type OutboundSource, type ProgressStore } from './contracts.ts';
import { answersCollidingHello, answersTurn, callBackoffMs, onNoAnswer, overIsIdle, reopenAfterTurns } from './decisions.ts';
import { proof } from './handshake.ts';
import { HelloState, type Session } from './hello-state.ts';
import type { LinkOptions } from './link-options.ts';
import type { LinkPort } from './link-port.ts';
import { Receiver, type CompletedBundle } from './receiver.ts';
import { OverWriter } from './over-writer.ts';
import { Sender, type Settled } from './sender.ts';
import { STREAM_LIMITS } from './session-history.ts';

export type LinkEvent =
  | { readonly type: 'up'; readonly peer: string; readonly dictionary: number; readonly maxFrame: number; readonly window: number }
  | { readonly type: 'auth-failed'; readonly detail: string }
  | { readonly type: 'no-answer'; readonly detail: string }
  | { readonly type: 'custody'; readonly id: string }
  | { readonly type: 'delivered'; readonly id: string }
  /** A deadline passed: CANCEL asked the peer (its answer decides), or the message never went on the air. */
  | { readonly type: 'cancel-asked'; readonly id: string }
  | { readonly type: 'expired'; readonly id: string }
  | { readonly type: 'refused'; readonly id: string; readonly status: string; readonly text: string }
  | { readonly type: 'deferred'; readonly id: string; readonly status: string; readonly text: string; readonly retryInMs: number }
  /** We would not take a message from the peer (our sink refused it, or its deadline or size): what we answered. */
  | { readonly type: 'refusing'; readonly id: string; readonly status: string; readonly text: string }
  | { readonly type: 'over'; readonly frames: number; readonly bytes: number; readonly airMs: number }
  /** A piece of a message put on the air (first time or again): what a monitor counts retransmissions by. */
  | { readonly type: 'segment'; readonly id: string; readonly offset: number; readonly bytes: number }
  | { readonly type: 'rejected-frame'; readonly reason: string }
  /** The outbound source failed to record an outcome (its store threw): the message stays, and is asked about again. */
  | { readonly type: 'error'; readonly detail: string };

export interface LinkDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly port: LinkPort;
  readonly source: OutboundSource;
  readonly sink: InboundSink;
  readonly progress: ProgressStore;
  readonly onEvent?: (e: LinkEvent) => void;
}

type Phase = 'down' | 'calling' | 'answered' | 'up';

/** Least wait for a caller's proof before an answered hello is given up (when we have mail to send). */
const HALF_OPEN_MS = 30_000;
/** Hellos answered in a row without the key proved, after which the answerer reports it. */
const UNPROVEN_CALLS = 3;
/** Answer timeouts in a row after which the session is presumed lost and a new hello is sent. */
const MAX_UNANSWERED = 3;
/**
 * Times one record may be judged lost by a peer that answers before the session is renewed: on any channel
 * the link keeps up, a record gets through well before (at 40 % frame loss, twelve losses in a row happen once
 * in 60,000), so this many means the two sides no longer agree on the session's records.
 */
const STUCK_TRIES = 12;
/** A transfer that has not moved for at least this long (and longer than two overs and an answer) is shown as stalled. */
const STALL_MIN_MS = 60_000;
/** Calls without any reply after which the status says the peer does not answer. */
const SILENT_CALLS = 3;

/**
 * One end of the radio link (docs/protocol.md): hello and mutual authentication (HelloState), half-duplex
 * overs with bounded airtime (AirTime), selective-repeat ARQ and custody (Sender, Receiver), and the
 * scheduler's choice at every frame boundary. The decisions themselves are pure functions (decisions.ts). It
 * only reads the injected clock and writes the injected port, so it runs the same over a serial port in real
 * time and over the simulator in virtual time.
 */
export class LinkStation {
  private phase: Phase = 'down';
  /** The peer talks in a session we do not have (we restarted): call it as soon as it falls quiet. */
  private callWhenQuiet = false;
  private session?: Session;
  private readonly hello: HelloState;
  private needAuthFrame = false;
  /** A reply to a hello heard while our session is up: it goes at the start of our next over. */
  private pendingReply?: Uint8Array;
  private readonly decoder: KissDecoder;
  readonly sender: Sender;
  readonly receiver: Receiver;

  private readonly out: OverWriter;
  private lastHeard = -Infinity;
  /** When the peer's last TURN was heard: its over has ended, and the channel is free without waiting for quiet. */
  private peerTurnAt = -Infinity;
  private peerOver = 0xff;
  private peerIdle = true;
  private helloAttempts = 0;
  /** Answer timeouts in a row with no valid frame from the peer. */
  private unanswered = 0;
  private lastHelloAt: number | null = null;
  /** Why the link is not up, when we know (no answer, or the peer could not prove the key), for a status display. */
  private problem: string | null = null;
  /**
   * What kind of problem, for a status display: `no-answer` (nothing heard back), `wrong-key` (a reply or AUTH
   * proving another key), `unproven` (we answered hellos but the caller never proved the key: our answers may
   * not reach it, or the keys differ; the answerer cannot tell which).
   */
  private problemKind: 'no-answer' | 'wrong-key' | 'unproven' | null = null;
  /** The transfer in progress and its offset when it last moved, for telling a slow transfer from a stalled one. */
  private progressMark?: { id: string; sent: number; at: number };
  /** Hellos answered in a row without the caller proving the key: it rejected our proof, or never heard it. */
  private unprovenCalls = 0;
  /** Until when an answered hello waits for the caller's proof before the half-open session is dropped. */
  private proofDueBy = 0;
  private replyTimer?: Timer;
  private silenceTimer?: Timer;
  private pumpTimer?: Timer;
  private turnTimer?: Timer;
  private wakeTimer?: Timer;
  private stopped = false;
  /** Frames heard while no session was up, damaged (a failed check) or whole: the channel's first sample. */
  private heardBeforeSession = { damaged: 0, whole: 0 };
  private readonly counts = { framesIn: 0, rejected: 0, helloAttempts: 0, helloAnswers: 0, authFrames: 0, authBytes: 0 };

  constructor(
    private readonly opts: LinkOptions,
    private readonly deps: LinkDeps,
  ) {
    this.decoder = new KissDecoder(opts.maxFrame + 64);
    this.out = new OverWriter(opts, deps.clock, deps.port);
    this.hello = new HelloState(opts.station, opts.peer, opts.key, opts.encrypt === true);
    const own = { maxFrame: opts.maxFrame, window: opts.window, dictionaries: opts.dictionaries ?? [0] };
    this.sender = new Sender(opts.peer, deps.progress, opts.scheduler ?? 'priority', own, () => deps.clock.now(), frameSizesFor(opts.air));
    this.receiver = new Receiver(opts.peer, deps.progress, opts.maxBundle ?? DEFAULT_MAX_BUNDLE_BYTES, (id, status, text) =>
      deps.onEvent?.({ type: 'refusing', id, status, text }),
    );
    deps.port.onData((chunk) => this.onBytes(chunk));
  }

  /** What this station put on the air and heard. */
  get stats() {
    return { ...this.out.stats, ...this.counts };
  }

  private get transmitting(): boolean {
    return this.out.transmitting;
  }

  private get air() {
    return this.out.air;
  }

  get isUp(): boolean {
    return this.phase === 'up' && this.session !== undefined;
  }

  /** What a status display shows about this link. */
  snapshot() {
    const cur = this.sender.current();
    const now = this.deps.clock.now();
    if (cur && (cur.id !== this.progressMark?.id || cur.sent !== this.progressMark.sent)) this.progressMark = { id: cur.id, sent: cur.sent, at: now };
    // Stalled: no progress for longer than an over of ours, one of the peer's and the wait for its answer, or the link is down.
    const stillFor = this.progressMark ? now - this.progressMark.at : 0;
    const stalled = cur !== undefined && cur.sent < cur.total && (!this.isUp || stillFor > Math.max(STALL_MIN_MS, 2 * this.opts.maxOverMs + this.air.answerWaitMs(now)));
    // What the rest takes on the air: its frames with the modem's framing, less what the measured loss costs.
    const frameMs = this.air.payloadMs(this.sender.frameSize + DATA_OVERHEAD);
    const loss = this.sender.lossMeasured ? this.sender.lossRate : null;
    const eta = cur && Math.ceil((Math.ceil((cur.total - cur.sent) / this.sender.frameSize) * frameMs) / 1000 / Math.max(0.3, 1 - (loss ?? 0)));
    return {
      peer: this.opts.peer,
      up: this.isUp,
      phase: this.phase,
      lastHelloAt: this.lastHelloAt,
      problem: this.problem,
      problemKind: this.problemKind,
      answerDelayMs: this.air.answerDelayMs === undefined ? null : Math.round(this.air.answerDelayMs),
      // Only when measured (enough records judged): before that there is nothing to show.
      lossRate: loss === null ? null : Math.round(loss * 1000) / 1000,
      frameSize: this.sender.frameSize,
      pending: this.sender.pendingCount,
      overs: this.out.stats.overs,
      records: this.sender.stats.records,
      retransmissions: this.sender.stats.retransmissions,
      current: cur && { ...cur, stalledSeconds: stalled ? Math.round(stillFor / 1000) : null, etaSeconds: stalled ? null : eta },
      // The estimate's model, so that another process can tell when each queued message should be across.
      model: this.deliveryModel(now) ?? null,
    };
  }

  /**
   * About how long until a new message of `priority` and about `bytes` on the air would be in the peer's custody,
   * ms: what goes before it and itself, in frames with the modem's framing, slowed by the measured loss, plus a
   * turnaround and the peer's answer per over. Undefined while the link is down (nothing can be promised then).
   */
  estimateMs(priority: number, bytes: number): number | undefined {
    const model = this.deliveryModel(this.deps.clock.now());
    return model && deliveryEstimateMs(this.sender.bytesAhead(priority) + bytes, model);
  }

  /**
   * What the estimates rest on, while the link is up: ms on the air per byte (frames with the modem's framing,
   * slowed by the measured loss), and the wait for the peer's answer after each over of maxOverMs.
   */
  private deliveryModel(now: number): DeliveryModel | undefined {
    if (!this.isUp) return undefined;
    const frameMs = this.air.payloadMs(this.sender.frameSize + DATA_OVERHEAD);
    const loss = this.sender.lossMeasured ? this.sender.lossRate : 0;
    return { msPerByte: frameMs / this.sender.frameSize / Math.max(0.3, 1 - loss), answerWaitMs: Math.round(this.air.answerWaitMs(now)), maxOverMs: this.opts.maxOverMs };
  }

  /** Starts the link: the caller says hello at once; either side says hello later when it has traffic. */
  start(): void {
    this.syncSource();
    if (this.opts.role === 'caller' && this.phase === 'down') this.sendHello();
    this.armWake();
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.replyTimer, this.silenceTimer, this.pumpTimer, this.turnTimer, this.wakeTimer, this.notifyTimer]) t?.cancel();
  }

  /**
   * The outbound queue changed: pick up new messages, and speak if the channel is free. Deferred to a timer of
   * its own, so that a queue reacting to an outcome (a redirect, a DSN for the radio) never re-enters the link.
   */
  notify(newIds?: readonly string[]): void {
    if (this.stopped) return;
    if (newIds && this.deps.source.itemsById) for (const id of newIds) this.newIds.add(id);
    else this.fullSync = true;
    this.notifyTimer ??= this.deps.clock.setTimer(0, () => {
      this.notifyTimer = undefined;
      if (this.stopped) return;
      if (this.fullSync) this.syncSource();
      else this.addNew([...this.newIds]);
      this.fullSync = false;
      this.newIds.clear();
      this.armWake();
      this.speakIfFree();
    });
  }
  private notifyTimer?: Timer;
  private fullSync = false;
  private readonly newIds = new Set<string>();

  private addNew(ids: readonly string[]): void {
    this.fromQueue(() => this.sender.add(this.deps.source.itemsById!(ids)));
  }

  /** What the queue holds for the peer; a queue that cannot be read now is read again at the next change. */
  private syncSource(): void {
    this.fromQueue(() => this.sender.sync(this.deps.source.pending()));
  }

  private fromQueue(read: () => void): void {
    try {
      read();
    } catch (err) {
      this.deps.onEvent?.({ type: 'error', detail: `could not read the queue: ${(err as Error)?.message ?? String(err)}` });
    }
  }

  private speakIfFree(): void {
    if (this.phase === 'down') this.sendHello();
    else if (this.phase === 'answered') this.callPastHalfOpen();
    else if (this.isUp && this.channelFree()) this.beginOver();
    else if (this.isUp && !this.transmitting && !this.replyTimer && !this.silenceTimer && !this.turnTimer) {
      // The peer was heard a moment ago: look again once the channel has been quiet for a frame.
      this.turnTimer = this.deps.clock.setTimer(Math.ceil(this.air.maxFrameMs()) + 50, () => {
        this.turnTimer = undefined;
        this.notify();
      });
    }
  }

  // ---- timing ----------------------------------------------------------------------------------------

  private channelFree(): boolean {
    if (this.transmitting) return false;
    if (this.opts.duplex === 'full') return true;
    if (this.replyTimer || this.silenceTimer) return false;
    // Free once the peer's over has ended: by its TURN, the last thing heard, or by a quiet longer than it keeps mid-over.
    return this.peerTurnAt >= this.lastHeard || this.deps.clock.now() - this.lastHeard > this.air.peerGapMs();
  }

  private clear(which: 'reply' | 'silence' | 'pump' | 'turn'): void {
    const key = `${which}Timer` as const;
    this[key]?.cancel();
    this[key] = undefined;
  }

  // ---- hello -----------------------------------------------------------------------------------------

  private caps() {
    return { maxFrame: this.opts.maxFrame, window: this.opts.window, dictionaries: [...(this.opts.dictionaries ?? [0])] };
  }

  private sendHello(): void {
    if (this.transmitting || this.stopped) return;
    this.callWhenQuiet = false;
    this.phase = 'calling';
    const nonce = this.deps.random.bytes(NONCE_BYTES);
    const now = this.deps.clock.now();
    this.hello.called(nonce, now);
    this.helloAttempts++;
    this.counts.helloAttempts++;
    if (this.helloAttempts > SILENT_CALLS && this.problem === null) {
      this.problem = `no answer from ${this.opts.peer} to ${this.helloAttempts - 1} hellos (peer off the air, wrong frequency or profile, or its TNC does not transmit)`;
      this.problemKind = 'no-answer';
      this.deps.onEvent?.({ type: 'no-answer', detail: this.problem });
    }
    this.out.keyUp();
    const frame = encodeHello({ type: FrameType.HELLO, version: PROTOCOL_VERSION, station: this.opts.station, nonce, caps: this.caps() });
    this.counts.authBytes += frame.length;
    this.out.write(frame);
    this.out.end();
    // Back off on repeated silence, with jitter so two stations calling at once drift apart; a late reply to
    // any recent hello is still taken.
    const backoff = callBackoffMs(this.helloAttempts, this.deps.random.bytes(1)[0]! / 255);
    this.clear('reply');
    this.replyTimer = this.deps.clock.setTimer(this.air.answerWaitMs(now) + backoff, () => {
      this.replyTimer = undefined;
      if (this.phase === 'calling') this.sendHello();
    });
  }

  private onHello(h: HelloFrame): void {
    if (!this.hello.isPeer(h.station)) return this.reject(`hello from unexpected station ${h.station}`);
    if (h.version !== PROTOCOL_VERSION) return this.reject(`peer speaks protocol version ${h.version}`);
    if (h.type === FrameType.HELLO_REPLY) return this.onHelloReply(h);
    const now = this.deps.clock.now();
    if (this.isUp) {
      // Our session stays until a new caller proves the key: a forged hello costs an answer, spaced out, and
      // never the session. The answer rides at the start of our next over.
      if (!this.hello.mayAnswer(now)) return this.reject('hello while a session is up (answer spaced out)');
      this.pendingReply = this.helloReply(h, now);
      if (!this.transmitting && !this.replyTimer && !this.silenceTimer) this.beginOver();
      return;
    }
    // Both called at once: the station with the smaller id answers, the other keeps calling.
    if (this.phase === 'calling' && !answersCollidingHello(this.opts.station, h.station)) return;
    this.callWhenQuiet = false;
    if (this.hello.offering && ++this.unprovenCalls % UNPROVEN_CALLS === 0) {
      this.problem = `${h.station} called ${this.unprovenCalls} times without proving the shared key: our answers may not reach it (does our TNC transmit? links[].tnc), or the keys differ`;
      this.problemKind = 'unproven';
      this.deps.onEvent?.({ type: 'auth-failed', detail: this.problem });
    }
    this.clear('reply');
    this.phase = 'answered';
    const reply = this.helloReply(h, now);
    this.out.keyUp();
    this.out.write(reply);
    this.out.end();
    const wait = this.air.answerWaitMs(this.deps.clock.now());
    // The proof may come late over a modem with long, unannounced latency: wait at least HALF_OPEN_MS for it.
    this.proofDueBy = this.deps.clock.now() + Math.max(wait, HALF_OPEN_MS);
    this.replyTimer = this.deps.clock.setTimer(wait, () => {
      this.replyTimer = undefined;
      this.callPastHalfOpen();
    });
  }

  private helloReply(h: HelloFrame, now: number): Uint8Array {
    const nonce = this.deps.random.bytes(NONCE_BYTES);
    const p = this.hello.answer(h, nonce, now);
    this.counts.helloAnswers++;
    const reply = encodeHello({ type: FrameType.HELLO_REPLY, version: PROTOCOL_VERSION, station: this.opts.station, nonce, caps: this.caps(), proof: p });
    this.counts.authBytes += reply.length;
    return reply;
  }

  private onHelloReply(h: HelloFrame): void {
    if (this.isUp) return this.reject('hello reply while a session is up');
    const s = this.hello.reply(h, this.deps.clock.now());
    if (s === 'not-calling') return this.reject('hello reply without a call');
    if (s === 'stale') return this.reject('a late reply to a hello already answered or too old');
    if (s === 'wrong-key') {
      this.problem = `${h.station} could not prove the shared key`;
      this.problemKind = 'wrong-key';
      this.deps.onEvent?.({ type: 'auth-failed', detail: this.problem });
      return;
    }
    this.establish(s);
  }

  /** A session is proven (the answer's proof, or the caller's AUTH): it replaces whatever was before. */
  private establish(s: Session): void {
    this.session = s;
    this.problem = null;
    this.problemKind = null;
    this.clear('reply');
    this.sender.reset(s.peerCaps, { ...this.heardBeforeSession, bytes: 60 });
    this.heardBeforeSession = { damaged: 0, whole: 0 };
    this.receiver.reset();
    this.peerOver = 0xff;
    this.peerIdle = s.role === 'answerer' ? false : true;
    this.unanswered = 0;
    this.syncSource();
    this.phase = 'up';
    this.needAuthFrame = s.role === 'caller';
    this.helloAttempts = 0;
    this.unprovenCalls = 0;
    this.lastHelloAt = this.deps.clock.now();
    this.deps.onEvent?.({
      type: 'up',
      peer: this.opts.peer,
      dictionary: this.commonDictionary(s.peerCaps.dictionaries),
      maxFrame: Math.min(this.opts.maxFrame, s.peerCaps.maxFrame),
      window: Math.min(this.opts.window, s.peerCaps.window),
    });
    if (s.role === 'caller') {
      // The answer to our hello is the answerer's whole over: the channel is ours, now and when mail comes later.
      this.peerTurnAt = this.deps.clock.now();
      this.beginOver();
    } else if (this.opts.duplex === 'half') this.armSilence(); // the caller's over goes on: wait for it as for any over
  }

  private commonDictionary(theirs: readonly number[]): number {
    const mine = this.opts.dictionaries ?? [0];
    return Math.max(0, ...mine.filter((d) => theirs.includes(d)));
  }

  private reject(reason: string): void {
    this.counts.rejected++;
    this.deps.onEvent?.({ type: 'rejected-frame', reason });
  }

  // ---- receiving -------------------------------------------------------------------------------------

  private onBytes(chunk: Uint8Array): void {
    if (this.stopped) return;
    // A half-duplex radio is deaf while it sends: until the last frame is written, and with a modem that takes
    // the over ahead of the air until the over has left it (what a peer sends meanwhile is a collision on the air;
    // it would be taken for the answer to an over still under way, and judge its records lost).
    if (this.opts.duplex === 'half' && (this.transmitting || (this.opts.txAheadMs && this.deps.clock.now() < this.air.clearAt()))) return;
    this.lastHeard = this.deps.clock.now();
    if (this.opts.duplex === 'half') {
      // Carrier: the peer is on the air. Its answer has begun; wait for the end of its over.
      if (this.replyTimer && this.phase === 'up') this.air.answerHeard(this.deps.clock.now());
      if (this.phase === 'up' || this.phase === 'down') this.clear('reply');
      this.armSilence();
    }
    for (const f of this.decoder.push(chunk)) if (f.command === 0) this.onFrame(f.payload);
  }

  private armSilence(): void {
    this.clear('silence');
    // The peer's frames follow each other back to back; a TNC hands each on whole, so the gap between two is at
    // most a frame's airtime (and a new key-up, when its TNC's queue ran dry: AirTime.peerGapMs). A quiet longer
    // than that and half the margin means its over has ended (its TURN was lost, or it has no session and we
    // want to call): shorter than the wait of a peer for our answer.
    const quietMs = this.session ? this.air.peerGapMs() + MARGIN_MS / 2 : MARGIN_MS / 2;
    this.silenceTimer = this.deps.clock.setTimer(quietMs, () => {
      this.silenceTimer = undefined;
      this.onPeerQuiet();
    });
  }

  private onFrame(frame: Uint8Array): void {
    this.counts.framesIn++;
    const type = peekType(frame);
    if (isFrameError(type)) {
      if (!this.isUp) this.heardBeforeSession.damaged++;
      return this.reject(type.detail);
    }
    if (type === FrameType.HELLO || type === FrameType.HELLO_REPLY) {
      const h = decodeHello(frame);
      if (!this.isUp) this.heardBeforeSession[isFrameError(h) && h.error === 'check' ? 'damaged' : 'whole']++;
      return isFrameError(h) ? this.reject(h.detail) : this.onHello(h);
    }
    const maxData = this.opts.maxFrame + 16;
    if (this.session) {
      const f = decodeSession(frame, this.session.keys.receive, maxData);
      if (!isFrameError(f)) return this.onSessionFrame(f);
      if (!this.hello.offering) return this.reject(f.detail);
    } else if (!this.hello.offering) {
      // The peer talks in a session we do not have (we restarted): start a new one, at once on a full-duplex
      // line; on a half-duplex one when the peer falls quiet, since it is deaf while it sends.
      if (this.phase === 'down' || this.phase === 'calling') {
        if (this.opts.duplex === 'full' && this.phase === 'down' && !this.replyTimer && !this.transmitting) this.sendHello();
        else this.callWhenQuiet = true;
      }
      return this.reject('session frame before hello');
    }
    // Perhaps the AUTH of a caller we answered: only a proof of the key makes its session ours.
    const s = this.hello.proven(frame, maxData);
    if (s === undefined) return this.reject(this.session ? 'MAC mismatch' : 'frame before authentication');
    if (s === 'bad-proof') {
      this.problem = `${this.opts.peer} could not prove the shared key`;
      this.problemKind = 'wrong-key';
      this.deps.onEvent?.({ type: 'auth-failed', detail: this.problem });
      return this.reject('AUTH with a wrong proof');
    }
    this.establish(s);
  }

  private onSessionFrame(f: SessionFrame): void {
    this.needAuthFrame = false; // the answerer speaks in this session: it accepted our proof
    this.unanswered = 0;
    switch (f.type) {
      case FrameType.RECORD: {
        for (const done of this.receiver.onRecord(f.seq, f.record, this.deps.clock.now())) this.accept(done);
        for (const a of this.receiver.answers.splice(0)) {
          const settled = this.sender.onAnswer(a);
          if (settled) this.settle(settled);
        }
        return;
      }
      case FrameType.CUSTODY:
        for (const e of f.entries) {
          const id = 'id' in e ? e.id : this.sender.idOfXfer(e.xfer);
          if (id !== undefined && this.sender.custody(id, e.slot)) this.settle({ outcome: 'custody', id });
        }
        return;
      case FrameType.CTRL: {
        const turn = (f.flags & CtrlFlag.TURN) !== 0;
        // Half duplex: the peer spoke, so every over we finished had ended for it, even if it missed our turn
        // frame; its acknowledgement judges them all. Full duplex overs overlap, so the echo says which.
        const judged = this.opts.duplex === 'half' ? (turn ? (this.sender.over - 1) & 0xff : null) : f.echo;
        this.sender.onAck(f.ack, f.bitmap, judged);
        if (turn && this.sender.maxTries() >= STUCK_TRIES) {
          // The peer answers every over but never takes one of our records: start a new session, which sets
          // both sides' records afresh (transfers resume from what the peer holds; custody decides as ever).
          this.deps.onEvent?.({ type: 'error', detail: `${this.opts.peer} answers but has not taken a record sent ${STUCK_TRIES} times: renewing the session` });
          this.forgetSession();
          return this.sendHello();
        }
        if (turn) {
          this.peerOver = f.over;
          this.peerIdle = (f.flags & CtrlFlag.IDLE) !== 0;
          // Custody comes in the peer's over once its store has the message; an idle peer has nothing left
          // to confirm, so a complete transfer still without custody lost its confirmation on the air.
          this.sender.reopenQuiet(reopenAfterTurns(this.peerIdle));
          this.clear('silence');
          this.peerTurnAt = this.deps.clock.now();
          this.onPeerTurn();
        }
        return;
      }
      default:
        return;
    }
  }

  /** The peer's answer decided a message's outcome: the outbound source records it, once. */
  private settle(s: Settled): void {
    try {
      this.record(s);
    } catch (err) {
      // The queue could not record it (disk full, ...): the message stays there, so the link offers it again,
      // and the peer's answer (custody, or CANCELLED) comes again and is recorded then.
      this.deps.onEvent?.({ type: 'error', detail: `could not record ${s.outcome} of ${s.id}: ${(err as Error)?.message ?? String(err)}` });
    }
  }

  private record(s: Settled): void {
    const now = this.deps.clock.now();
    if (s.outcome === 'custody') {
      this.deps.source.custodyConfirmed(s.id);
      this.deps.onEvent?.({ type: 'custody', id: s.id });
    } else if (s.outcome === 'withdrawn') {
      this.deps.source.expired(s.id, now);
      this.deps.onEvent?.({ type: 'expired', id: s.id });
      // Recipients whose deadline it was not (an ABY without an alternate) still wait: they come back as a new transfer.
      this.notify([s.id]);
    } else if (s.outcome === 'refused') {
      this.deps.source.refused(s.id, s.status, s.text, now);
      this.deps.onEvent?.({ type: 'refused', id: s.id, status: s.status, text: s.text });
    } else {
      this.deps.onEvent?.({ type: 'deferred', id: s.id, status: s.status, text: s.text, retryInMs: s.retryInMs });
      this.armWake();
    }
  }

  private accept(done: CompletedBundle): void {
    // A bundle compressed against this session's history (docs/protocol.md, "Session context"): rebuilt from
    // the slots it names, or refused for now when one is not held here (the sender makes it again without).
    const named = bundleContext(done.bundle);
    const history = named && named.count > 0 ? this.receiver.history.resolve(named.count, named.excluded) : undefined;
    if (named && named.count > 0 && !history) {
      this.receiver.failed(done.id, '4.6.0', `compressed against messages of the session that ${this.opts.station} no longer holds; send it without`);
      return;
    }
    this.deps.sink.accept(done.id, done.bundle, done.openedAt, history).then(
      () => {
        const stream = bundleStream(done.bundle, history, STREAM_LIMITS);
        this.receiver.delivered(done.id, stream instanceof Uint8Array ? stream : undefined, done.session, done.xfer);
        this.deps.onEvent?.({ type: 'delivered', id: done.id });
        if (this.isUp && this.channelFree()) this.beginOver();
      },
      (err: unknown) => {
        // Not durable here: no custody. A refusal says why; anything else is a transient fault of our store.
        const r = err instanceof LinkRefusal ? err : new LinkRefusal('4.3.0', `the receiving station could not store it: ${(err as Error)?.message ?? String(err)}`.slice(0, 200));
        this.receiver.failed(done.id, r.status, r.text);
        if (this.isUp && this.channelFree()) this.beginOver();
      },
    );
  }

  /** The peer handed the channel over. Answer when it expects one or when we have something to say. */
  private onPeerTurn(): void {
    if (this.opts.duplex === 'full') {
      if (this.hasSomethingToSay()) this.beginOver();
      return;
    }
    // Let the peer's last bits clear and acceptances settle before keying up.
    this.clear('turn');
    this.turnTimer = this.deps.clock.setTimer(1, () => {
      this.turnTimer = undefined;
      if (answersTurn(this.peerIdle, this.hasSomethingToSay())) this.beginOver();
    });
  }

  /** The peer fell quiet without handing over: its TURN was lost (or, without a session, our chance to call). */
  private onPeerQuiet(): void {
    if (this.stopped || this.transmitting) return;
    // Without a session: call now only if the peer was talking in a session we lack (our hello may have been
    // lost in its over); otherwise the call's own back-off decides.
    if ((this.phase === 'calling' || this.phase === 'down') && this.callWhenQuiet) return this.sendHello();
    if (this.phase === 'answered') return this.callPastHalfOpen();
    if (!this.isUp) return;
    // It spoke after our over ended, so whatever of ours it did not acknowledge was lost.
    if (this.sender.hasUnacked() && !this.opts.modemArq) this.sender.retransmitAll();
    this.sender.reopenQuiet(reopenAfterTurns(false));
    this.peerIdle = false;
    this.beginOver();
  }

  /** Our over's answer did not come. */
  private onAnswerTimeout(): void {
    if (this.stopped || this.transmitting) return;
    if (this.phase === 'answered') return this.callPastHalfOpen();
    if (!this.isUp) return;
    const action = onNoAnswer(++this.unanswered, this.sender.hasUnacked(), this.opts.modemArq ?? false, MAX_UNANSWERED);
    if (action === 'hello') {
      // Several overs without a single valid frame back: the peer has lost our session (it restarted).
      this.unanswered = 0;
      this.forgetSession();
      return this.sendHello();
    }
    if (action === 'resend') this.sender.retransmitAll();
    this.sender.reopenQuiet(1);
    if (this.hasSomethingToSay() || !this.peerIdle) this.beginOver();
  }

  /**
   * A hello we answered whose caller has not proved the key: once the wait for that is over (the caller died,
   * or our answer was lost), we call, if we have mail for the peer: otherwise no one might, as the peer may be
   * a restarted answerer with nothing to send. The offer stays open: a late AUTH for it is still taken.
   */
  private callPastHalfOpen(): void {
    if (this.phase !== 'answered' || this.sender.pendingCount === 0) return;
    const left = this.proofDueBy - this.deps.clock.now();
    if (left > 0) {
      this.replyTimer ??= this.deps.clock.setTimer(left, () => {
        this.replyTimer = undefined;
        this.callPastHalfOpen();
      });
      return;
    }
    this.forgetSession();
    this.sendHello();
  }

  private forgetSession(): void {
    this.phase = 'down';
    this.session = undefined;
  }

  private hasSomethingToSay(): boolean {
    return (
      this.receiver.owesAck ||
      this.receiver.custody.length > 0 ||
      this.receiver.replies.length > 0 ||
      this.sender.hasWork() ||
      this.sender.hasUnacked() ||
      this.needAuthFrame ||
      this.pendingReply !== undefined
    );
  }

  // ---- sending ---------------------------------------------------------------------------------------

  private beginOver(): void {
    if (this.transmitting || this.stopped || !this.session) return;
    this.clear('reply');
    this.clear('silence');
    this.expire();
    this.out.keyUp();
    if (this.pendingReply) {
      this.out.write(this.pendingReply);
      this.pendingReply = undefined;
    }
    if (this.needAuthFrame) {
      // Sent at the start of every over until the answerer shows, by a valid frame, that it took it.
      const auth = encodeSession({ type: FrameType.AUTH, proof: proof(this.session.psk, this.session.transcript, 'caller', this.session.sealed) }, this.session.keys.send);
      this.counts.authFrames++;
      this.counts.authBytes += auth.length;
      this.out.write(auth);
    }
    // An over of custody only (half duplex, a clean channel) lets its TURN carry the acknowledgement: one frame
    // instead of two. Otherwise the acknowledgement goes first, and the TURN repeats it.
    const recordsFollow = this.receiver.replies.length > 0 || this.sender.hasWork() || this.sender.hasUnacked();
    if (this.receiver.owesAck && (this.opts.duplex === 'full' || recordsFollow || this.sender.lossRate >= 0.05)) this.writeCtrl(0);
    this.writeCustody();
    for (const r of this.receiver.replies.splice(0)) this.sender.queueControl(r);
    this.pump();
  }

  private writeCtrl(flags: number): void {
    const { ack, bitmap } = this.receiver.ackState();
    this.out.writeSession({ type: FrameType.CTRL, ack, bitmap, flags, over: this.sender.over & 0xff, echo: this.peerOver }, this.session!.keys.send);
  }

  private writeCustody(): void {
    while (this.receiver.custody.length) {
      this.out.writeSession({ type: FrameType.CUSTODY, entries: this.receiver.custody.splice(0, 8) }, this.session!.keys.send);
    }
  }

  /** Writes the next frame when the previous one is about to leave the air: priority is decided per frame. */
  private pump(): void {
    this.pumpTimer = undefined;
    if (!this.transmitting || this.stopped || !this.session) return;
    const wait = this.out.nextFrameInMs();
    if (wait > 0) {
      this.pumpTimer = this.deps.clock.setTimer(wait, () => this.pump());
      return;
    }
    const used = this.out.overMs();
    if (used >= this.opts.maxOverMs) {
      // Past the budget only to finish a message whose last two frames are due (at most 15 % longer), or, on a
      // channel measured clean (on a lossy or unmeasured one the frames might not arrive anyway), to send
      // everything that is left (at most 25 % longer), which saves a whole exchange of overs (two turnarounds,
      // the path both ways, the peer's answer); the peer waits at most a quarter of an over more.
      const finishing = () => used < 1.15 * this.opts.maxOverMs && this.sender.nextEndsWithin(2 * this.sender.frameSize);
      const frameMs = this.air.payloadMs(this.sender.frameSize + DATA_OVERHEAD);
      const emptying = () => this.sender.lossMeasured && this.sender.lossRate < 0.1 && this.sender.allWorkWithin(Math.floor(((1.25 * this.opts.maxOverMs - used) / frameMs) * this.sender.frameSize));
      if (!finishing() && !emptying()) return this.endOver();
    }
    this.expire();
    for (const r of this.receiver.replies.splice(0)) this.sender.queueControl(r);
    const next = this.sender.next(this.deps.clock.now());
    if (!next) return this.endOver();
    this.out.writeRecord(next.seq, next.record, this.session.keys.send);
    const r = next.record;
    if (next.id !== undefined && (r.kind === RecordKind.OPEN || r.kind === RecordKind.DATA)) this.deps.onEvent?.({ type: 'segment', id: next.id, offset: r.offset, bytes: r.data.length });
    // A modem that takes the over ahead of the air gets what is due in one piece: a TNC keys up when its first
    // frame comes and ends the transmission when its queue runs dry, so frames must not trickle in.
    if (this.opts.txAheadMs) return this.pump();
    this.pumpTimer = this.deps.clock.setTimer(0, () => this.pump());
  }

  private endOver(): void {
    this.writeCustody();
    const idle = overIsIdle({
      records: this.out.recordsThisOver,
      unacked: this.sender.hasUnacked(),
      work: this.sender.hasWork(),
      awaitingAnswer: this.sender.awaitingAnswer(),
      owing: this.receiver.deciding || this.receiver.replies.length > 0,
    });
    this.writeCtrl(CtrlFlag.TURN | (idle ? CtrlFlag.IDLE : 0));
    this.sender.endOver();
    const over = this.out.end();
    this.deps.onEvent?.({ type: 'over', frames: over.frames, bytes: over.bytes, airMs: over.airMs });
    if (idle) return; // nothing outstanding: the peer answers only if it has something
    // Full duplex: the answer to this over comes while we go on with the next one.
    if (this.opts.duplex === 'full' && this.sender.hasWork()) {
      this.clear('turn');
      this.turnTimer = this.deps.clock.setTimer(0, () => {
        this.turnTimer = undefined;
        this.beginOver();
      });
    }
    // Also the timer of messages waiting for custody or for the answer to a CANCEL: no answer, ask again.
    this.clear('reply');
    this.air.awaitAnswer();
    this.replyTimer = this.deps.clock.setTimer(this.air.answerWaitMs(this.deps.clock.now()), () => {
      this.replyTimer = undefined;
      this.air.forgetAnswer();
      this.onAnswerTimeout();
    });
  }

  // ---- deadlines -------------------------------------------------------------------------------------

  /**
   * Messages whose BY/ABY deadline has passed (design.md 4.8): one never on the air is withdrawn at once; for
   * the others CANCEL asks the peer, and its answer (CANCELLED, or CUSTODY if it holds the message) decides.
   */
  private expire(): void {
    // The sender's view of the queue, not the queue itself: this runs at every frame.
    const now = this.deps.clock.now();
    for (const id of this.sender.expiredIds(now)) {
      const r = this.sender.cancel(id);
      if (r === 'withdrawn') this.settle({ outcome: 'withdrawn', id });
      else if (r === 'asked') this.deps.onEvent?.({ type: 'cancel-asked', id });
    }
  }

  /** One timer for the next thing due without the peer: a deadline, or a deferred message's retry. */
  private armWake(): void {
    this.wakeTimer?.cancel();
    this.wakeTimer = undefined;
    const next = this.sender.nextWakeAt();
    if (next === undefined) return;
    this.wakeTimer = this.deps.clock.setTimer(Math.max(0, next - this.deps.clock.now()), () => {
      this.wakeTimer = undefined;
      if (this.stopped) return;
      // The sender's own view: the queue tells it of every change (new mail, an operator's hold or delete).
      this.expire();
      this.armWake();
      if (this.sender.hasWork()) this.speakIfFree();
    });
  }
}
