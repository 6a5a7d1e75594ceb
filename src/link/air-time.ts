import { DATA_OVERHEAD } from '../codec/link-frame.ts';
import type { AirFraming, LinkOptions } from './link-options.ts';

export type { AirFraming };
import { frameSizeGrid, type FrameSizes } from './loss-estimator.ts';

/** Slack added to waits that depend on the far side (its timers, its serial line, a late byte). */
export const MARGIN_MS = 1000;

/** KISS and frame bytes around the largest record (frame header, MAC, an OPEN's fields, KISS escapes). */
const FRAME_OVERHEAD = 40;


/** HDLC flags (0x7E) around each frame. */
const HDLC_FLAG_BYTES = 2;
/** AX.25 frame check sequence (CRC-16). */
const HDLC_FCS_BYTES = 2;
/** Bit stuffing on data that looks random: one 0 after five 1s, 1 bit in 62 on average (for airtime). */
const STUFFING_MEAN = 1 / 62;
/** Bit stuffing allowed for when choosing whether a frame fits an FX.25 block: 4 standard deviations up. */
const STUFFING_FIT = 0.03;
/** Frames in a row a TNC may drop to noise in the middle of an over before the quiet means the over ended. */
const TNC_LOST_IN_A_ROW = 2;
/** FX.25 correlation tag before each block. */
const FX25_TAG_BYTES = 8;
/** FX.25 data sizes of the Reed-Solomon blocks by number of check bytes (FX.25 spec, tags 0x01-0x0B). */
export const FX25_BLOCKS: Readonly<Record<16 | 32 | 64, readonly number[]>> = {
  16: [32, 64, 128, 239],
  32: [32, 64, 128, 223],
  64: [64, 128, 191],
};

/** HDLC bytes of a frame of `payload` bytes (flags, FCS), with bit stuffing at `stuffing`. */
function hdlcBytes(payload: number, stuffing: number): number {
  return (HDLC_FCS_BYTES + payload) * (1 + stuffing) + HDLC_FLAG_BYTES;
}

/** The FX.25 block data size that holds a frame of `payload` bytes, or undefined when none does. */
export function fx25Block(payload: number, checkBytes: 16 | 32 | 64): number | undefined {
  const need = Math.ceil(hdlcBytes(payload, STUFFING_FIT));
  return FX25_BLOCKS[checkBytes].find((k) => need <= k);
}

/** Bytes on the air for a frame whose payload (before KISS escaping) is `payload` bytes and whose KISS form is `written` bytes. */
export function frameAirBytes(air: AirFraming | undefined, payload: number, written = payload + 3): number {
  if (!air || air.framing === 'bytes') return written;
  if (air.fx25) {
    const k = fx25Block(payload, air.fx25);
    if (k !== undefined) return FX25_TAG_BYTES + k + air.fx25;
  }
  return hdlcBytes(payload, STUFFING_MEAN);
}

/**
 * The largest frame payload that fits the modem's FEC block (FX.25's 239 data bytes less flags, CRC and
 * stuffing), or undefined when the modem has no FEC block to fit.
 */
export function largestProtectedFrame(air: AirFraming | undefined): number | undefined {
  if (!air?.fx25) return undefined;
  let n = 0;
  while (fx25Block(n + 1, air.fx25) !== undefined) n++;
  return n;
}

/**
 * The data sizes a frame may have on this modem: with FX.25 those that fill its blocks (a frame that just
 * misses one pays for the next block up, or goes unprotected), every 16 bytes otherwise. Data frames are the
 * largest for their data (an OPEN's fields take less than the room it leaves: sender.ts).
 */
export function frameSizesFor(air: AirFraming | undefined): FrameSizes {
  const fec = air?.fx25;
  if (!fec) return frameSizeGrid;
  const fits = FX25_BLOCKS[fec].map((k) => {
    let n = 0;
    while ((fx25Block(n + 1, fec) ?? Infinity) <= k) n++;
    return n - DATA_OVERHEAD;
  });
  const largest = fits[fits.length - 1]!;
  return (maxFrame) => {
    const cap = Math.min(maxFrame, largest);
    return [...fits.filter((s) => s >= 32 && s < cap), cap];
  };
}

/**
 * The model of the station's own airtime: when what it wrote will have left the air, when the over began, and
 * how long the peer takes to answer (measured). Pure: every reading takes `now`, so it runs in real and virtual
 * time alike.
 */
export class AirTime {
  /** When what we have written will have left the air (TXTAIL not included). */
  freeAt = 0;
  /** When the current over began (key-up included). */
  overStart = 0;
  private measuredAnswer?: number;
  /** When our last over leaves the air, while its answer is awaited. */
  private answerFrom?: number;

  constructor(private readonly o: Pick<LinkOptions, 'bitRate' | 'bitsPerByte' | 'maxFrame' | 'duplex' | 'turnaroundMs' | 'latencyMs' | 'air'>) {}

  byteMs(): number {
    return ((this.o.bitsPerByte ?? 8) * 1000) / this.o.bitRate;
  }

  /** Airtime of `bytes` on the air. */
  frameMs(bytes: number): number {
    return bytes * this.byteMs();
  }

  /** Airtime of a frame of `payload` bytes (`written` in its KISS form), with the modem's own framing. */
  payloadMs(payload: number, written?: number): number {
    return this.frameMs(frameAirBytes(this.o.air, payload, written));
  }

  /** Airtime of the largest frame, framing and FEC included. */
  maxFrameMs(): number {
    const payload = this.o.maxFrame + FRAME_OVERHEAD;
    const fec = this.o.air?.fx25;
    // With FX.25 a frame that still fits a block can take longer than a larger one sent without FEC.
    const protectedMax = fec ? largestProtectedFrame(this.o.air) : undefined;
    const block = fec && protectedMax !== undefined ? frameAirBytes(this.o.air, Math.min(payload, protectedMax)) : 0;
    return Math.max(this.payloadMs(payload, payload), this.frameMs(block));
  }

  /** A TNC keys up anew after its queue ran dry (TXDELAY again); a raw modem or a full-duplex line does not. */
  private get keysUpPerTransmission(): boolean {
    return this.o.duplex === 'half' && this.o.air?.framing === 'hdlc';
  }

  /** After the last frame of a transmission: the TNC's TXTAIL. */
  tailMs(): number {
    return this.o.duplex === 'half' ? (this.o.air?.tailMs ?? 0) : 0;
  }

  /** A transmission starts: key-up costs the turnaround on a half-duplex radio. */
  keyUp(now: number): void {
    this.overStart = Math.max(now, this.freeAt);
    if (this.o.duplex === 'half' && this.freeAt <= now) this.freeAt = now + this.o.turnaroundMs;
  }

  /**
   * A frame was written to the port: it follows what is still on the air. `bytes` is what was written (KISS
   * form); `payload` the frame itself, for a modem that puts its own framing on the air.
   */
  wrote(now: number, bytes: number, payload = bytes - 3): void {
    if (this.freeAt < now) {
      // The queue had run dry: a TNC has ended its transmission and keys up again (TXTAIL, then TXDELAY).
      this.freeAt = this.keysUpPerTransmission && this.freeAt > this.overStart ? now + this.tailMs() + this.o.turnaroundMs : now;
    }
    this.freeAt += this.payloadMs(payload, bytes);
  }

  /** Airtime of the over so far. */
  overMs(): number {
    return this.freeAt - this.overStart;
  }

  /** When the channel is clear of our transmission: what is queued, then the TNC's TXTAIL. */
  clearAt(): number {
    return this.freeAt + this.tailMs();
  }

  /** How long until a frame of `bytes` written now has left the air: the wait behind what is queued, then its own airtime. */
  leavesAirIn(now: number, bytes: number): number {
    return Math.max(now, this.freeAt) - now + this.payloadMs(bytes - 3, bytes);
  }

  /**
   * How long the peer may be silent in the middle of its over: a frame's airtime; through a TNC also a new key-up
   * (its queue ran dry: TXTAIL and TXDELAY) and frames lost to noise, which a TNC drops whole (it hands on only
   * frames that pass its CRC, so a damaged frame is silence, where a raw modem hands on damaged bytes). A margin
   * is added by the caller.
   */
  peerGapMs(): number {
    if (!this.keysUpPerTransmission) return this.maxFrameMs();
    return (1 + TNC_LOST_IN_A_ROW) * this.maxFrameMs() + this.tailMs() + this.o.turnaroundMs;
  }

  /** Our over is over: its answer is awaited from when it leaves the air. */
  awaitAnswer(): void {
    this.answerFrom = this.clearAt();
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
   * How long to wait for the first byte of an answer after our over ends: what is still on the air and the TNC's
   * TXTAIL, then the peer's turnaround and latency as measured on this link (the profile's figures until there
   * is a measurement), the longest quiet the peer allows our over (a frame; through a TNC more), and a margin.
   */
  answerWaitMs(now: number): number {
    const latency = this.o.latencyMs ?? 50;
    const turn = this.o.duplex === 'half' ? this.o.turnaroundMs : 0;
    const expected = Math.max(turn + 2 * latency, this.measuredAnswer ?? 0);
    // The peer's own quiet (peerGapMs) is shorter than this: a lost TURN costs its quiet, not our over again.
    return Math.max(0, this.clearAt() - now) + expected + this.peerGapMs() + MARGIN_MS;
  }
}

/** The link's delivery model, as a link station reports it (status) and estimates with it (admission). */
export interface DeliveryModel {
  /** ms on the air per byte of bundle, framing and measured loss included. */
  readonly msPerByte: number;
  /** The wait for the peer's answer after each over. */
  readonly answerWaitMs: number;
  readonly maxOverMs: number;
}

/**
 * A message's bytes on the air before its bundle is made, for estimates: half its size (mail compresses about
 * that well), so that a doubt errs towards an earlier delivery, never a refusal.
 */
export function expectedBundleBytes(size: number): number {
  return Math.ceil(size / 2);
}

/** About how long until `bytes` more are in the peer's custody: their airtime, plus an answer per over. */
export function deliveryEstimateMs(bytes: number, m: DeliveryModel): number {
  const sendMs = bytes * m.msPerByte;
  return Math.ceil(sendMs + Math.max(1, Math.ceil(sendMs / m.maxOverMs)) * m.answerWaitMs);
}
