import type { SchedulerMode } from './scheduler.ts';

/** How one end of a link behaves: identities and key, then what the profile says about the radio. */
export interface LinkOptions {
  readonly station: string;
  readonly peer: string;
  /** Pre-shared key for this peer; during a key change two (the current one first), either proving a hello. */
  readonly key: Uint8Array | readonly Uint8Array[];
  /** Encrypt session frames (AES-256-GCM); only where the licence allows it, and on both stations alike. */
  readonly encrypt?: boolean;
  /** The caller sends the first hello; the answerer waits for one. */
  readonly role: 'caller' | 'answerer';
  readonly duplex: 'half' | 'full';
  /** On-air bit rate, to pace frames and to know when an over has left the air. */
  readonly bitRate: number;
  /** Bits per byte on the air (8, or 10 with start and stop bits on an asynchronous modem). */
  readonly bitsPerByte?: number;
  /** Key-up to first bit on the far side: TXDELAY, modem sync, receiver recovery. */
  readonly turnaroundMs: number;
  /** Worst one-way propagation and modem latency. */
  readonly latencyMs?: number;
  /** Largest data segment per frame; frames shrink below it when loss is high. */
  readonly maxFrame: number;
  /** Most records in flight without acknowledgement. */
  readonly window: number;
  /** Longest over (transmission) before the channel is handed over. */
  readonly maxOverMs: number;
  readonly scheduler?: SchedulerMode;
  /** Largest bundle accepted from the peer. */
  readonly maxBundle?: number;
  /** Dictionary versions this station's codec supports, best last. */
  readonly dictionaries?: readonly number[];
  /** What the modem puts on the air around each frame (HDLC, FX.25) and its TXTAIL; without it, the bytes as written. */
  readonly air?: AirFraming;
  /**
   * Airtime handed to the modem ahead of the air. A sound-card TNC such as Direwolf makes a transmission's audio
   * ahead of time and ends it (TXTAIL, then TXDELAY for the next) as soon as its queue runs dry, so it is given
   * the over in one piece; without it each frame is written just before the previous one leaves the air, so the
   * choice of what goes next is made at every frame.
   */
  readonly txAheadMs?: number;
  /** KISS port number for the TNC. */
  readonly kissPort?: number;
  /**
   * The modem retransmits by itself (VARA, PACTOR): its delays vary with the channel, so a late answer is
   * waited for instead of answered with retransmissions; acknowledgements and custody still run.
   */
  readonly modemArq?: boolean;
}

/**
 * What a modem puts on the air for each frame the link writes.
 *
 * - `bytes`: the bytes as written, KISS framing included (a raw serial modem; the simulator).
 * - `hdlc`: a KISS TNC sends each frame's payload, unescaped, as one HDLC frame: opening flag, the payload as
 *   it is (Direwolf adds no AX.25 address or control field to what the host sends), CRC-16, closing flag, the
 *   whole bit-stuffed. A TNC keys up per transmission: TXDELAY of flags before the first frame and TXTAIL after
 *   the last; a frame written after its queue ran dry starts a new transmission.
 * - `fx25`: HDLC with FX.25 forward error correction (Direwolf -X): the bit-stuffed HDLC frame, flags
 *   included, padded into the smallest Reed-Solomon block that holds it (32, 64, 128 or 239 data bytes for 16
 *   check bytes), after an 8-byte correlation tag. A frame too big for any block goes as plain HDLC, unprotected.
 */
export interface AirFraming {
  readonly framing: 'bytes' | 'hdlc';
  /** FX.25 check bytes per block (16, 32 or 64), when the TNC sends FX.25. */
  readonly fx25?: 16 | 32 | 64;
  /** The TNC's TXTAIL: flags after a transmission's last frame, before the channel is free. */
  readonly tailMs?: number;
}
