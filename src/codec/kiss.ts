/**
 * KISS framing (K9NG/KA9Q): FEND delimits frames, FESC escapes FEND and FESC inside them, and the first byte
 * of each frame is the command byte (port in the high nibble, command in the low one). Real KISS TNCs carry
 * these frames unchanged; on a raw serial line hfmail uses the same stuffing.
 */
export const KISS = {
  FEND: 0xc0, // frame end
  FESC: 0xdb, // frame escape
  TFEND: 0xdc, // transposed frame end, after FESC
  TFESC: 0xdd, // transposed frame escape, after FESC
} as const;

/** Low nibble of the command byte (KISS spec, "Commands"). */
export const KissCommand = {
  DATA: 0x00,
  TXDELAY: 0x01, // in 10 ms units
  PERSISTENCE: 0x02, // p * 256 - 1
  SLOTTIME: 0x03, // in 10 ms units
  TXTAIL: 0x04,
  FULLDUPLEX: 0x05,
} as const;

/** One frame on the wire: FEND, command byte, stuffed payload, FEND. */
export function encodeKiss(payload: Uint8Array, command: number = KissCommand.DATA, port = 0): Uint8Array {
  const out = new Uint8Array(payload.length * 2 + 3);
  let n = 0;
  out[n++] = KISS.FEND;
  out[n++] = ((port & 0x0f) << 4) | (command & 0x0f);
  for (const b of payload) {
    if (b === KISS.FEND) {
      out[n++] = KISS.FESC;
      out[n++] = KISS.TFEND;
    } else if (b === KISS.FESC) {
      out[n++] = KISS.FESC;
      out[n++] = KISS.TFESC;
    } else out[n++] = b;
  }
  out[n++] = KISS.FEND;
  return out.subarray(0, n);
}

export interface KissFrame {
  readonly port: number;
  readonly command: number;
  readonly payload: Uint8Array;
}

export interface KissStats {
  frames: number;
  /** Frames dropped for a bad escape or for exceeding the size limit. */
  dropped: number;
  /** Bytes outside any frame (line noise before the first FEND). */
  noise: number;
}

/**
 * Incremental decoder: push arbitrary chunks, get complete frames. A bad escape or an over-long frame drops
 * that frame only; the next FEND resynchronises. Memory is bounded by `maxFrame`.
 */
export class KissDecoder {
  private readonly buf: Uint8Array;
  private len = 0;
  private inFrame = false;
  private escaped = false;
  private bad = false;
  readonly stats: KissStats = { frames: 0, dropped: 0, noise: 0 };

  constructor(private readonly maxFrame = 4096) {
    this.buf = new Uint8Array(maxFrame + 1);
  }

  push(chunk: Uint8Array): KissFrame[] {
    const frames: KissFrame[] = [];
    for (const b of chunk) {
      if (b === KISS.FEND) {
        if (this.inFrame && this.len > 0) {
          if (this.bad || this.escaped) this.stats.dropped++;
          else {
            const cmd = this.buf[0]!;
            frames.push({ port: cmd >> 4, command: cmd & 0x0f, payload: this.buf.slice(1, this.len) });
            this.stats.frames++;
          }
        }
        this.inFrame = true;
        this.len = 0;
        this.escaped = false;
        this.bad = false;
        continue;
      }
      if (!this.inFrame) {
        this.stats.noise++;
        continue;
      }
      if (this.bad) continue;
      let v = b;
      if (this.escaped) {
        this.escaped = false;
        if (b === KISS.TFEND) v = KISS.FEND;
        else if (b === KISS.TFESC) v = KISS.FESC;
        else {
          this.bad = true;
          continue;
        }
      } else if (b === KISS.FESC) {
        this.escaped = true;
        continue;
      }
      if (this.len > this.maxFrame) {
        this.bad = true;
        continue;
      }
      this.buf[this.len++] = v;
    }
    return frames;
  }
}
