import type { LinkOptions } from './link-options.ts';

/** Slack added to waits that depend on the far side (its timers, its serial line, a late byte). */
export const MARGIN_MS = 1000;

/** KISS and frame bytes around the largest record. */
const FRAME_OVERHEAD = 40;

/**
 * The station's model of its own airtime: when what it wrote will have left the air, when the over began, and
 * how long the peer takes to answer (measured). Pure: every reading takes `now`, so it runs in real and virtual
 * time alike.
 */
export class AirTime {
  /** When what we have written will have left the air. */
  freeAt = 0;
  /** When the current over began (key-up included). */
  overStart = 0;
  private measuredAnswer?: number;
  /** When our last over leaves the air, while its answer is awaited. */
  private answerFrom?: number;

  constructor(private readonly o: Pick<LinkOptions, 'bitRate' | 'bitsPerByte' | 'maxFrame' | 'duplex' | 'turnaroundMs' | 'latencyMs'>) {}

  byteMs(): number {
    return ((this.o.bitsPerByte ?? 8) * 1000) / this.o.bitRate;
  }

  frameMs(bytes: number): number {
    return bytes * this.byteMs();
  }

  maxFrameMs(): number {
    return this.frameMs(this.o.maxFrame + FRAME_OVERHEAD);
  }

  /** A transmission starts: key-up costs the turnaround on a half-duplex radio. */
  keyUp(now: number): void {
    this.overStart = Math.max(now, this.freeAt);
    if (this.o.duplex === 'half' && this.freeAt <= now) this.freeAt = now + this.o.turnaroundMs;
  }

  /** `bytes` were written to the port: they follow what is still on the air. */
  wrote(now: number, bytes: number): void {
    if (this.freeAt < now) this.freeAt = now;
    this.freeAt += this.frameMs(bytes);
  }

  /** Airtime of the over so far. */
  overMs(): number {
    return this.freeAt - this.overStart;
  }

  /** How long until a frame of `bytes` written now has left the air: the wait behind what is queued, then its own airtime. */
  leavesAirIn(now: number, bytes: number): number {
    return Math.max(now, this.freeAt) - now + this.frameMs(bytes);
  }

  /** Our over is over: its answer is awaited from when it leaves the air. */
  awaitAnswer(): void {
    this.answerFrom = this.freeAt;
  }

  /** No answer came (or the wait was abandoned): the next bytes heard are not an answer to time. */
  forgetAnswer(): void {
    this.answerFrom = undefined;
  }

  /** The first byte of an answer: learns the answer delay (peer turnaround plus round-trip latency). */
  answerHeard(now: number): void {
    if (this.answerFrom === undefined) return;
    const sample = now - this.answerFrom;
    this.answerFrom = undefined;
    if (sample <= 0) return;
    this.measuredAnswer = this.measuredAnswer === undefined ? sample : 0.75 * this.measuredAnswer + 0.25 * sample;
  }

  /** The measured answer delay, ms, once there is one. */
  get answerDelayMs(): number | undefined {
    return this.measuredAnswer;
  }

  /**
   * How long to wait for the first byte of an answer after our over ends: what is still on the air, then the
   * peer's turnaround and latency as measured on this link (the profile's figures until there is a measurement),
   * one frame, and a margin.
   */
  answerWaitMs(now: number): number {
    const latency = this.o.latencyMs ?? 50;
    const turn = this.o.duplex === 'half' ? this.o.turnaroundMs : 0;
    const expected = Math.max(turn + 2 * latency, this.measuredAnswer ?? 0);
    return Math.max(0, this.freeAt - now) + expected + this.maxFrameMs() + MARGIN_MS;
  }
}
