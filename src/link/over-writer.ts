import type { Clock } from '../core/index.ts';
import { encodeKiss } from '../codec/kiss.ts';
import { encodeSession, FrameType, RecordKind, type FrameKey, type LinkRecord, type SessionFrame } from '../codec/link-frame.ts';
import { AirTime } from './air-time.ts';
import type { LinkOptions } from './link-options.ts';
import type { LinkPort } from './link-port.ts';

/** Propagation (at most about 130 ms around the earth) and serial buffering, counted into an OPEN's age besides the modem's latency. */
const PATH_ALLOWANCE_MS = 150;
/** Bytes an OPEN may grow by when its age and deadline fields get longer. */
const AGE_FIELD_SLACK = 8;

/** What one over put on the air. */
export interface OverSummary {
  readonly frames: number;
  readonly bytes: number;
  readonly records: number;
  readonly airMs: number;
}

/**
 * Writing an over: key-up, frames in KISS on the port, the airtime they take (AirTime), and when the next frame
 * is due so that each is written just before the previous one leaves the air. It knows nothing of what the
 * frames say: the station decides that, frame by frame.
 */
export class OverWriter {
  readonly air: AirTime;
  /** From key-up until the over's last frame is written. */
  transmitting = false;
  private frames = 0;
  private bytes = 0;
  private records = 0;
  readonly stats = { overs: 0, framesOut: 0, bytesOut: 0 };

  constructor(
    private readonly opts: LinkOptions,
    private readonly clock: Clock,
    private readonly port: LinkPort,
  ) {
    this.air = new AirTime(opts);
  }

  /** Starts a transmission: key-up costs the turnaround on a half-duplex radio. */
  keyUp(): void {
    this.transmitting = true;
    this.air.keyUp(this.clock.now());
    this.frames = 0;
    this.bytes = 0;
    this.records = 0;
    this.stats.overs++;
  }

  /** A frame of the protocol, onto the port. */
  write(frame: Uint8Array): void {
    const bytes = encodeKiss(frame, 0, this.opts.kissPort ?? 0);
    this.air.wrote(this.clock.now(), bytes.length, frame.length);
    this.frames++;
    this.bytes += bytes.length;
    this.stats.framesOut++;
    this.stats.bytesOut += bytes.length;
    this.port.write(bytes);
  }

  /** A session frame under the sender's key. */
  writeSession(f: SessionFrame, key: FrameKey): void {
    this.write(encodeSession(f, key));
  }

  /**
   * A RECORD frame. An OPEN's age also counts the time until the frame has left the air (the wait behind the
   * frames before it, key-up included, and its own airtime) and the path to the peer, and its deadline is that
   * much nearer, so deadlines the receiver counts from its arrival never grow across the hop.
   */
  writeRecord(seq: number, record: LinkRecord, key: FrameKey): void {
    this.records++;
    const frame = (r: LinkRecord) => encodeSession({ type: FrameType.RECORD, seq, record: r }, key);
    if (record.kind !== RecordKind.OPEN) return this.write(frame(record));
    const now = this.clock.now();
    const airBytes = encodeKiss(frame(record), 0, this.opts.kissPort ?? 0).length + AGE_FIELD_SLACK;
    const flightMs = Math.ceil(this.air.leavesAirIn(now, airBytes) + PATH_ALLOWANCE_MS + (this.opts.latencyMs ?? 0));
    const deadlineMs = record.deadlineMs === 0 ? 0 : Math.max(1, record.deadlineMs - flightMs);
    this.write(frame({ ...record, ageMs: record.ageMs + flightMs, deadlineMs }));
  }

  /**
   * How long to wait before writing the next frame (0: now): each goes just before the previous leaves the air,
   * or, for a modem that takes frames ahead of the air (txAheadMs), that much ahead.
   */
  nextFrameInMs(): number {
    if (this.frames === 0) return 0;
    // Whole ms: epoch-sized times have no finer precision.
    return Math.max(0, Math.ceil(this.air.freeAt - this.clock.now() - Math.max(this.air.maxFrameMs(), this.opts.txAheadMs ?? 0)));
  }

  /** Airtime of the over so far (key-up included). */
  overMs(): number {
    return this.air.overMs();
  }

  get recordsThisOver(): number {
    return this.records;
  }

  /** The over's last frame is written. */
  end(): OverSummary {
    this.transmitting = false;
    return { frames: this.frames, bytes: this.bytes, records: this.records, airMs: this.air.overMs() };
  }
}
