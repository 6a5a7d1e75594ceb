import type { Clock, Random, Timer } from '../core/index.ts';
import { encodeKiss, KissDecoder } from '../codec/kiss.ts';
import {
  CtrlFlag,
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
  type LinkRecord,
  type SessionFrame,
} from '../codec/link-frame.ts';
import { AirTime, MARGIN_MS } from './air-time.ts';
import type { InboundSink, OutboundSource, ProgressStore } from './contracts.ts';
import { proof, sameBytes, sessionKeys, type HelloTranscript, type SessionKeys } from './handshake.ts';
import type { LinkOptions } from './link-options.ts';
import type { LinkPort } from './link-port.ts';
import { Receiver, type CompletedBundle } from './receiver.ts';
import { Sender } from './sender.ts';

export type LinkEvent =
  | { readonly type: 'up'; readonly peer: string; readonly dictionary: number }
  | { readonly type: 'auth-failed'; readonly detail: string }
  | { readonly type: 'custody'; readonly id: string }
  | { readonly type: 'delivered'; readonly id: string }
  | { readonly type: 'expired'; readonly id: string }
  | { readonly type: 'over'; readonly frames: number; readonly bytes: number; readonly airMs: number }
  /** A piece of a message put on the air (first time or again): what a monitor counts retransmissions by. */
  | { readonly type: 'segment'; readonly id: string; readonly offset: number; readonly bytes: number }
  | { readonly type: 'rejected-frame'; readonly reason: string };

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

/** Propagation (at most about 130 ms around the earth) and serial buffering, counted into an OPEN's age besides the modem's latency. */
const PATH_ALLOWANCE_MS = 150;
/** Bytes an OPEN may grow by when its age field gets longer. */
const AGE_FIELD_SLACK = 4;
/** Least wait for a caller's proof before an answered hello is given up (when we have mail to send). */
const HALF_OPEN_MS = 30_000;
/** Hellos answered in a row without the key proved, after which the answerer reports it. */
const UNPROVEN_CALLS = 3;
/** Answer timeouts in a row after which the session is presumed lost and a new hello is sent. */
const MAX_UNANSWERED = 3;

/**
 * One end of the radio link (docs/protocol.md): hello and mutual authentication, half-duplex overs with
 * bounded airtime, selective-repeat ARQ, custody, and the scheduler's choice at every frame boundary. It
 * only reads the injected clock and writes the injected port, so it runs the same over a serial port in
 * real time and over the simulator in virtual time.
 */
export class LinkStation {
  private phase: Phase = 'down';
  /** The peer talks in a session we do not have (we restarted): call it as soon as it falls quiet. */
  private callWhenQuiet = false;
  private keys?: SessionKeys;
  private transcript?: HelloTranscript;
  private myRole: 'caller' | 'answerer' = 'caller';
  private myNonce: Uint8Array = new Uint8Array(0);
  private peerAuthed = false;
  private needAuthFrame = false;
  private readonly decoder: KissDecoder;
  readonly sender: Sender;
  readonly receiver: Receiver;

  private transmitting = false;
  private readonly air: AirTime;
  private overFrames = 0;
  private overBytes = 0;
  private overRecords = 0;
  private lastHeard = -Infinity;
  private peerOver = 0xff;
  private peerIdle = true;
  private helloAttempts = 0;
  /** Answer timeouts in a row with no valid frame from the peer. */
  private unanswered = 0;
  private lastHelloAt: number | null = null;
  /** Why the link is not up, when we know (the peer could not prove the key), for a status display. */
  private problem: string | null = null;
  /** Hellos answered in a row without the caller proving the key: it rejected our proof, or never heard it. */
  private unprovenCalls = 0;
  /** We answered a hello and the caller has not proved the key yet. */
  private awaitingProof = false;
  /** Until when an answered hello waits for the caller's proof before the half-open session is dropped. */
  private proofDueBy = 0;
  private replyTimer?: Timer;
  private silenceTimer?: Timer;
  private pumpTimer?: Timer;
  private turnTimer?: Timer;
  private expiryTimer?: Timer;
  private stopped = false;
  readonly stats = { overs: 0, framesOut: 0, bytesOut: 0, framesIn: 0, rejected: 0, helloAttempts: 0, authFrames: 0, authBytes: 0 };

  constructor(
    private readonly opts: LinkOptions,
    private readonly deps: LinkDeps,
  ) {
    const maxFrame = opts.maxFrame;
    this.decoder = new KissDecoder(maxFrame + 64);
    this.air = new AirTime(opts);
    this.sender = new Sender(opts.peer, deps.progress, opts.scheduler ?? 'priority', maxFrame, opts.window);
    this.receiver = new Receiver(opts.peer, deps.progress, opts.maxBundle ?? 32 * 1024 * 1024);
    deps.port.onData((chunk) => this.onBytes(chunk));
  }

  get isUp(): boolean {
    return this.phase === 'up' && this.peerAuthed;
  }

  /** What a status display shows about this link. */
  snapshot() {
    const cur = this.sender.current();
    const byteMs = this.air.byteMs();
    return {
      peer: this.opts.peer,
      up: this.isUp,
      phase: this.phase,
      lastHelloAt: this.lastHelloAt,
      problem: this.problem,
      answerDelayMs: this.air.answerDelayMs === undefined ? null : Math.round(this.air.answerDelayMs),
      lossRate: Math.round(this.sender.lossRate * 1000) / 1000,
      frameSize: this.sender.frameSize,
      pending: this.sender.pendingIds().length,
      overs: this.stats.overs,
      current: cur && { ...cur, etaSeconds: Math.ceil(((cur.total - cur.sent) * byteMs) / 1000 / Math.max(0.3, 1 - this.sender.lossRate)) },
    };
  }

  /** Starts the link: the caller says hello at once; either side says hello later when it has traffic. */
  start(): void {
    this.sender.sync(this.deps.source.pending());
    if (this.opts.role === 'caller' && this.phase === 'down') this.sendHello();
    this.armExpiry();
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.replyTimer, this.silenceTimer, this.pumpTimer, this.turnTimer, this.expiryTimer]) t?.cancel();
  }

  /** The outbound queue changed: pick up new messages, and speak if the channel is free. */
  notify(): void {
    if (this.stopped) return;
    this.sender.sync(this.deps.source.pending());
    this.armExpiry();
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
    return !this.replyTimer && !this.silenceTimer && this.deps.clock.now() - this.lastHeard > this.air.maxFrameMs();
  }

  private clear(which: 'reply' | 'silence' | 'pump' | 'turn'): void {
    const key = `${which}Timer` as const;
    this[key]?.cancel();
    this[key] = undefined;
  }

  private write(frame: Uint8Array): void {
    const bytes = encodeKiss(frame, 0, this.opts.kissPort ?? 0);
    this.air.wrote(this.deps.clock.now(), bytes.length);
    this.overFrames++;
    this.overBytes += bytes.length;
    this.stats.framesOut++;
    this.stats.bytesOut += bytes.length;
    this.deps.port.write(bytes);
  }

  /** Starts a transmission: key-up costs the turnaround on a half-duplex radio. */
  private keyUp(): void {
    this.transmitting = true;
    this.air.keyUp(this.deps.clock.now());
    this.overFrames = 0;
    this.overBytes = 0;
    this.overRecords = 0;
    this.stats.overs++;
  }

  // ---- hello -----------------------------------------------------------------------------------------

  private caps() {
    return { maxFrame: this.opts.maxFrame, window: this.opts.window, dictionaries: [...(this.opts.dictionaries ?? [0])] };
  }

  private sendHello(): void {
    if (this.transmitting || this.stopped) return;
    this.callWhenQuiet = false;
    this.phase = 'calling';
    this.myRole = 'caller';
    this.myNonce = this.deps.random.bytes(NONCE_BYTES);
    this.helloAttempts++;
    this.stats.helloAttempts++;
    this.keyUp();
    const hello = encodeHello({ type: FrameType.HELLO, version: PROTOCOL_VERSION, station: this.opts.station, nonce: this.myNonce, caps: this.caps() });
    this.stats.authBytes += hello.length;
    this.write(hello);
    this.transmitting = false;
    // Back off on repeated silence, with jitter so two stations calling at once drift apart.
    const backoff = Math.min(60_000, 1000 * 2 ** Math.min(this.helloAttempts - 1, 6)) * (0.5 + (this.deps.random.bytes(1)[0]! / 255));
    this.clear('reply');
    this.replyTimer = this.deps.clock.setTimer(this.air.answerWaitMs(this.deps.clock.now()) + backoff, () => {
      this.replyTimer = undefined;
      if (this.phase === 'calling') this.sendHello();
    });
  }

  private onHello(h: HelloFrame): void {
    if (h.station !== this.opts.peer) return this.reject(`hello from unexpected station ${h.station}`);
    if (h.version !== PROTOCOL_VERSION) return this.reject(`peer speaks protocol version ${h.version}`);
    if (h.type === FrameType.HELLO) {
      // Both called at once: the station with the smaller id answers, the other keeps calling.
      if (this.phase === 'calling' && this.opts.station < h.station) return;
      this.callWhenQuiet = false;
      if (this.awaitingProof && ++this.unprovenCalls % UNPROVEN_CALLS === 0) {
        this.problem = `${h.station} called ${this.unprovenCalls} times without proving the shared key (the keys differ, or our answers do not reach it)`;
        this.deps.onEvent?.({ type: 'auth-failed', detail: this.problem });
      }
      this.clear('reply');
      this.myRole = 'answerer';
      this.myNonce = this.deps.random.bytes(NONCE_BYTES);
      this.transcript = { caller: h.station, answerer: this.opts.station, callerNonce: h.nonce, answererNonce: this.myNonce };
      this.keys = sessionKeys(this.opts.key, this.transcript, 'answerer');
      this.newSession();
      this.phase = 'answered';
      this.awaitingProof = true;
      this.peerAuthed = false;
      this.keyUp();
      const reply = encodeHello({ type: FrameType.HELLO_REPLY, version: PROTOCOL_VERSION, station: this.opts.station, nonce: this.myNonce, caps: this.caps(), proof: proof(this.opts.key, this.transcript, 'answerer') });
      this.stats.authBytes += reply.length;
      this.write(reply);
      this.transmitting = false;
      const wait = this.air.answerWaitMs(this.deps.clock.now());
      // The proof may come late over a modem with long, unannounced latency: wait at least HALF_OPEN_MS for it.
      this.proofDueBy = this.deps.clock.now() + Math.max(wait, HALF_OPEN_MS);
      this.replyTimer = this.deps.clock.setTimer(wait, () => {
        this.replyTimer = undefined;
        this.takeTurnIfPending();
      });
      return;
    }
    if (this.phase !== 'calling') return;
    const t: HelloTranscript = { caller: this.opts.station, answerer: h.station, callerNonce: this.myNonce, answererNonce: h.nonce };
    if (!h.proof || !sameBytes(h.proof, proof(this.opts.key, t, 'answerer'))) {
      this.problem = `${h.station} could not prove the shared key`;
      this.deps.onEvent?.({ type: 'auth-failed', detail: this.problem });
      return;
    }
    this.problem = null;
    this.clear('reply');
    this.transcript = t;
    this.keys = sessionKeys(this.opts.key, t, 'caller');
    this.newSession();
    this.phase = 'up';
    this.peerAuthed = true;
    this.needAuthFrame = true;
    this.helloAttempts = 0;
    this.lastHelloAt = this.deps.clock.now();
    this.deps.onEvent?.({ type: 'up', peer: h.station, dictionary: this.commonDictionary(h.caps.dictionaries) });
    this.beginOver();
  }

  private commonDictionary(theirs: readonly number[]): number {
    const mine = this.opts.dictionaries ?? [0];
    return Math.max(0, ...mine.filter((d) => theirs.includes(d)));
  }

  private newSession(): void {
    this.sender.reset();
    this.receiver.reset();
    this.peerOver = 0xff;
    this.sender.sync(this.deps.source.pending());
  }

  private reject(reason: string): void {
    this.stats.rejected++;
    this.deps.onEvent?.({ type: 'rejected-frame', reason });
  }

  // ---- receiving -------------------------------------------------------------------------------------

  private onBytes(chunk: Uint8Array): void {
    if (this.stopped) return;
    if (this.opts.duplex === 'half' && this.transmitting) return; // a half-duplex radio is deaf while it sends
    this.lastHeard = this.deps.clock.now();
    if (this.opts.duplex === 'half') {
      // Carrier: the peer is on the air. Its answer has begun; wait for the end of its over.
      if (this.replyTimer) this.air.answerHeard(this.deps.clock.now());
      this.clear('reply');
      this.armSilence();
    }
    for (const f of this.decoder.push(chunk)) if (f.command === 0) this.onFrame(f.payload);
  }

  private armSilence(): void {
    this.clear('silence');
    // Without a session, a quiet channel is our chance to call. The peer's frames follow each other without
    // gaps, so half the margin of quiet means its over has ended; it then waits a turnaround, a frame and the
    // margin for an answer, and our hello (key-up, then a short frame) arrives within that.
    const quietMs = this.keys ? 2 * this.air.maxFrameMs() + MARGIN_MS : MARGIN_MS / 2;
    this.silenceTimer = this.deps.clock.setTimer(quietMs, () => {
      this.silenceTimer = undefined;
      this.takeTurnIfPending(); // the peer fell silent without handing over: its turn frame was lost
    });
  }

  private onFrame(frame: Uint8Array): void {
    this.stats.framesIn++;
    const type = peekType(frame);
    if (isFrameError(type)) return this.reject(type.detail);
    if (type === FrameType.HELLO || type === FrameType.HELLO_REPLY) {
      const h = decodeHello(frame);
      return isFrameError(h) ? this.reject(h.detail) : this.onHello(h);
    }
    if (!this.keys) {
      // The peer talks in a session we do not have (we restarted): start a new one, at once on a full-duplex
      // line; on a half-duplex one when the peer falls quiet, since it is deaf while it sends.
      if (this.phase === 'down') {
        if (this.opts.duplex === 'full' && !this.replyTimer && !this.transmitting) this.sendHello();
        else this.callWhenQuiet = true;
      }
      return this.reject('session frame before hello');
    }
    const f = decodeSession(frame, this.keys.receive, this.opts.maxFrame + 16);
    if (isFrameError(f)) return this.reject(f.detail);
    if (!this.peerAuthed) {
      if (f.type !== FrameType.AUTH || !this.transcript) return this.reject('frame before authentication');
      if (!sameBytes(f.proof, proof(this.opts.key, this.transcript, 'caller'))) {
        this.problem = `${this.opts.peer} could not prove the shared key`;
        this.deps.onEvent?.({ type: 'auth-failed', detail: this.problem });
        return this.reject('frame before authentication');
      }
      this.problem = null;
      this.peerAuthed = true;
      this.phase = 'up';
      this.unprovenCalls = 0;
      this.awaitingProof = false;
      this.lastHelloAt = this.deps.clock.now();
      this.deps.onEvent?.({ type: 'up', peer: this.opts.peer, dictionary: this.commonDictionary(this.opts.dictionaries ?? [0]) });
      return;
    }
    this.onSessionFrame(f);
  }

  private onSessionFrame(f: SessionFrame): void {
    this.needAuthFrame = false; // the answerer speaks in this session: it accepted our proof
    this.unanswered = 0;
    switch (f.type) {
      case FrameType.RECORD:
        for (const done of this.receiver.onRecord(f.seq, f.record, this.deps.clock.now())) this.accept(done);
        for (const r of this.receiver.resumes.splice(0)) this.sender.onResume(r.xfer, r.offset);
        return;
      case FrameType.CUSTODY:
        for (const id of f.ids) {
          if (this.sender.custody(id)) {
            this.deps.source.custodyConfirmed(id);
            this.deps.onEvent?.({ type: 'custody', id });
          }
        }
        return;
      case FrameType.CTRL: {
        const turn = (f.flags & CtrlFlag.TURN) !== 0;
        // Half duplex: the peer spoke, so every over we finished had ended for it, even if it missed our turn
        // frame; its acknowledgement judges them all. Full duplex overs overlap, so the echo says which.
        const judged = this.opts.duplex === 'half' ? (turn ? (this.sender.over - 1) & 0xff : null) : f.echo;
        this.sender.onAck(f.ack, f.bitmap, judged);
        if (turn) {
          this.peerOver = f.over;
          this.peerIdle = (f.flags & CtrlFlag.IDLE) !== 0;
          // Custody comes in the peer's over once its store has the message; an idle peer has nothing left
          // to confirm, so a complete transfer still without custody lost its confirmation on the air.
          this.sender.reopenQuiet(this.peerIdle ? 1 : 2);
          this.clear('silence');
          this.onPeerTurn();
        }
        return;
      }
      default:
        return;
    }
  }

  private accept(done: CompletedBundle): void {
    this.deps.sink.accept(done.id, done.bundle, done.openedAt).then(
      () => {
        this.receiver.delivered(done.id);
        this.deps.onEvent?.({ type: 'delivered', id: done.id });
        if (this.isUp && this.channelFree()) this.beginOver();
      },
      () => this.receiver.failed(done.id), // not durable: no custody; the sender keeps it and offers it again
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
      if (!this.peerIdle || this.hasSomethingToSay()) this.beginOver();
    });
  }

  private takeTurnIfPending(): void {
    if (this.stopped || this.transmitting) return;
    if (this.phase === 'calling' || (this.phase === 'down' && this.callWhenQuiet)) return this.sendHello();
    if (this.phase === 'answered') return this.callPastHalfOpen();
    if (!this.isUp) return;
    // Several overs without a single valid frame back: the peer has lost our session (it restarted).
    if (++this.unanswered >= MAX_UNANSWERED) {
      this.unanswered = 0;
      this.forgetSession();
      return this.sendHello();
    }
    // No answer: resend what is unacknowledged (unless the modem does that itself), and ask again for custody.
    if (this.sender.hasUnacked() && !this.opts.modemArq) this.sender.retransmitAll();
    this.sender.reopenQuiet(1);
    if (this.hasSomethingToSay() || !this.peerIdle) this.beginOver();
  }

  /**
   * A hello we answered whose caller has not proved the key: once the wait for that is over (the caller died,
   * or our answer was lost), the half-open session is dropped and we call, if we have mail for the peer:
   * otherwise no one might, as the peer may be a restarted answerer with nothing to send.
   */
  private callPastHalfOpen(): void {
    if (this.phase !== 'answered' || this.sender.pendingIds().length === 0) return;
    const left = this.proofDueBy - this.deps.clock.now();
    if (left > 0) {
      this.replyTimer ??= this.deps.clock.setTimer(left, () => {
        this.replyTimer = undefined;
        this.takeTurnIfPending();
      });
      return;
    }
    this.forgetSession();
    this.sendHello();
  }

  private forgetSession(): void {
    this.phase = 'down';
    this.keys = undefined;
    this.peerAuthed = false;
  }

  private hasSomethingToSay(): boolean {
    return (
      this.receiver.owesAck ||
      this.receiver.custody.length > 0 ||
      this.receiver.replies.length > 0 ||
      this.sender.hasWork() ||
      this.sender.hasUnacked() ||
      this.needAuthFrame
    );
  }

  // ---- sending ---------------------------------------------------------------------------------------

  private beginOver(): void {
    if (this.transmitting || this.stopped || !this.keys) return;
    this.clear('reply');
    this.clear('silence');
    this.expire();
    this.keyUp();
    if (this.needAuthFrame && this.transcript) {
      // Sent at the start of every over until the answerer shows, by a valid frame, that it took it.
      const auth = encodeSession({ type: FrameType.AUTH, proof: proof(this.opts.key, this.transcript, 'caller') }, this.keys.send);
      this.stats.authFrames++;
      this.stats.authBytes += auth.length;
      this.write(auth);
    }
    if (this.receiver.owesAck) this.writeCtrl(0);
    this.writeCustody();
    for (const r of this.receiver.replies.splice(0)) this.sender.queueControl(r);
    this.pump();
  }

  private writeCtrl(flags: number): void {
    const { ack, bitmap } = this.receiver.ackState();
    this.write(encodeSession({ type: FrameType.CTRL, ack, bitmap, flags, over: this.sender.over & 0xff, echo: this.peerOver }, this.keys!.send));
  }

  private writeCustody(): void {
    while (this.receiver.custody.length) {
      const ids = this.receiver.custody.splice(0, 8);
      this.write(encodeSession({ type: FrameType.CUSTODY, ids }, this.keys!.send));
    }
  }

  /** Writes the next frame when the previous one is about to leave the air: priority is decided per frame. */
  private pump(): void {
    this.pumpTimer = undefined;
    if (!this.transmitting || this.stopped) return;
    const now = this.deps.clock.now();
    const lead = this.air.maxFrameMs();
    const wait = Math.ceil(this.air.freeAt - now - lead); // whole ms: epoch-sized times have no finer precision
    if (this.overFrames > 0 && wait > 0) {
      this.pumpTimer = this.deps.clock.setTimer(wait, () => this.pump());
      return;
    }
    const used = this.air.overMs();
    if (used >= this.opts.maxOverMs) {
      // Past the budget only to finish a message whose last two frames are due (at most 15 % longer).
      const finishing = used < 1.15 * this.opts.maxOverMs && this.sender.nextEndsWithin(2 * this.sender.frameSize);
      if (!finishing) return this.endOver();
    }
    this.expire();
    const next = this.sender.next(this.deps.clock.now());
    if (!next) return this.endOver();
    this.overRecords++;
    this.write(this.recordFrame(next.seq, next.record));
    const r = next.record;
    if (next.id !== undefined && (r.kind === RecordKind.OPEN || r.kind === RecordKind.DATA)) this.deps.onEvent?.({ type: 'segment', id: next.id, offset: r.offset, bytes: r.data.length });
    this.pumpTimer = this.deps.clock.setTimer(0, () => this.pump());
  }

  /**
   * A RECORD frame. An OPEN's age also counts the time until the frame has left the air (the wait behind the
   * frames before it, key-up included, and its own airtime) and the path to the peer, so deadlines the receiver
   * counts from its arrival never grow across the hop.
   */
  private recordFrame(seq: number, record: LinkRecord): Uint8Array {
    const frame = (r: LinkRecord) => encodeSession({ type: FrameType.RECORD, seq, record: r }, this.keys!.send);
    if (record.kind !== RecordKind.OPEN) return frame(record);
    const now = this.deps.clock.now();
    const airBytes = encodeKiss(frame(record), 0, this.opts.kissPort ?? 0).length + AGE_FIELD_SLACK;
    const flightMs = this.air.leavesAirIn(now, airBytes) + PATH_ALLOWANCE_MS + (this.opts.latencyMs ?? 0);
    return frame({ ...record, ageMs: record.ageMs + Math.ceil(flightMs) });
  }

  private endOver(): void {
    this.writeCustody();
    const idle = this.overRecords === 0 && !this.sender.hasUnacked() && !this.sender.hasWork();
    this.writeCtrl(CtrlFlag.TURN | (idle ? CtrlFlag.IDLE : 0));
    this.sender.endOver();
    this.transmitting = false;
    this.deps.onEvent?.({ type: 'over', frames: this.overFrames, bytes: this.overBytes, airMs: this.air.overMs() });
    if (idle) return; // nothing outstanding: the peer answers only if it has something
    // Full duplex: the answer to this over comes while we go on with the next one.
    if (this.opts.duplex === 'full' && this.sender.hasWork()) {
      this.clear('turn');
      this.turnTimer = this.deps.clock.setTimer(0, () => {
        this.turnTimer = undefined;
        this.beginOver();
      });
    }
    this.clear('reply');
    this.air.awaitAnswer();
    this.replyTimer = this.deps.clock.setTimer(this.air.answerWaitMs(this.deps.clock.now()), () => {
      this.replyTimer = undefined;
      this.air.forgetAnswer();
      this.takeTurnIfPending();
    });
  }

  // ---- deadlines -------------------------------------------------------------------------------------

  /** Withdraws messages whose BY/ABY deadline has passed (design.md 4.8). */
  private expire(): void {
    // The sender's view of the queue, not the queue itself: this runs at every frame.
    const now = this.deps.clock.now();
    for (const id of this.sender.expiredIds(now)) {
      this.sender.cancel(id);
      this.deps.source.expired(id, now);
      this.deps.onEvent?.({ type: 'expired', id });
    }
  }

  private armExpiry(): void {
    this.expiryTimer?.cancel();
    const next = Math.min(...this.deps.source.pending().map((i) => i.deadline ?? Infinity));
    if (!Number.isFinite(next)) return;
    this.expiryTimer = this.deps.clock.setTimer(Math.max(0, next - this.deps.clock.now()), () => {
      this.sender.sync(this.deps.source.pending()); // the sender sees what the queue holds now
      this.expire();
      this.armExpiry();
    });
  }
}
