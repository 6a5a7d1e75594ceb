import { createHash } from 'node:crypto';
import { HASH_BYTES, RecordKind, type CustodyEntry, type LinkRecord } from '../codec/link-frame.ts';
import type { ProgressStore } from './contracts.ts';
import { sameBytes } from './handshake.ts';
import { seqAdd, seqDiff } from './seq.ts';
import { SessionHistory } from './session-history.ts';

/** Most records held out of order, and so the width of the acknowledgement bitmap (64 bytes). */
export const REORDER_WINDOW = 512;
/** Most bytes of one transfer held ahead of a gap in its offsets (re-segmented records arrive after later ones). */
const MAX_AHEAD_BYTES = 2 * 1024 * 1024;

interface InTransfer {
  readonly id: string;
  readonly xfer: number;
  readonly total: number;
  readonly hash: Uint8Array;
  readonly openedAt: number;
  /** When the sender withdraws it (receiver's clock); past it the bundle is refused, not taken. */
  readonly deadlineAt?: number;
  chunks: Uint8Array[];
  have: number;
  /** Segments beyond `have`, by offset: a record re-segmented when sent again arrives after later ones. */
  ahead: Map<number, Uint8Array>;
  aheadBytes: number;
  resumeAsked: boolean;
}

export interface CompletedBundle {
  readonly id: string;
  readonly bundle: Uint8Array;
  readonly openedAt: number;
  /** The session it completed in: a custody given in a later one has no slot in that one's history. */
  readonly session: number;
  /** Its transfer number in that session. */
  readonly xfer: number;
}

/** A refusal the receiver sent, remembered so that the same offer is answered at once. */
export interface Refusal {
  readonly status: string;
  readonly text: string;
}

/**
 * The receiving half of the ARQ: records are applied in sequence order (out-of-order ones wait in a bounded
 * buffer), transfers are reassembled without allocating what the peer declares, and a complete transfer is
 * handed out only when its hash matches and its deadline has not passed. Every offer ends in an answer the
 * sender can act on: CUSTODY (held durably), CANCELLED (withdrawn, not held), or REFUSE (will not take it).
 */
export class Receiver {
  private next = 0;
  /** Records ahead of a gap, with when each arrived (an OPEN is dated from its arrival, not from the gap's filling). */
  private readonly held = new Map<number, { record: LinkRecord; at: number }>();
  private readonly transfers = new Map<number, InTransfer>();
  /** Records arrived since the last acknowledgement. */
  owesAck = false;
  /** Messages to confirm in the next CUSTODY frame, with their slots in this session's history (0: none). */
  readonly custody: CustodyEntry[] = [];
  /** Transfer numbers of this session and their messages, while each names one message (the sender has not wrapped). */
  private readonly xferIds = new Map<number, string>();
  private xfersReused = false;
  /** Messages taken in this session, by the slot their custody gave them: what the peer's bundles may name. */
  readonly history = new SessionHistory();
  private readonly slotOf = new Map<string, number>();
  /** Sessions so far. */
  session = 0;
  /** Records for the sender (RESUME, CANCELLED, REFUSE), sent reliably by our own sending side. */
  readonly replies: LinkRecord[] = [];
  /** Answers from the peer's receiver (RESUME, CANCELLED, REFUSE), for our own sending side, in sequence order. */
  readonly answers: LinkRecord[] = [];
  /** Complete messages handed to the sink and not yet durable there: never handed out twice. */
  private readonly accepting = new Set<string>();
  /** Messages the sender withdrew while the sink was taking them: answered once the sink has decided. */
  private readonly cancelWhileAccepting = new Set<string>();
  /** Permanent refusals, answered at once when the same message is offered again. */
  private readonly refusals = new Map<string, Refusal>();
  readonly stats = { records: 0, duplicates: 0, hashMismatches: 0, refused: 0, cancelled: 0 };

  constructor(
    private readonly peer: string,
    private readonly progress: ProgressStore,
    private readonly maxBundle: number,
    /** Told of every refusal this side sends, for the log: a refused message is an event on both stations. */
    private readonly onRefuse: (id: string, status: string, text: string) => void = () => undefined,
  ) {}

  /** A new session starts: sequence numbers restart, transfers are re-opened by the sender. */
  reset(): void {
    this.next = 0;
    this.held.clear();
    this.transfers.clear();
    this.owesAck = false;
    this.replies.length = 0;
    this.history.reset();
    this.slotOf.clear();
    this.xferIds.clear();
    this.xfersReused = false;
    this.session++;
  }

  onRecord(seq: number, record: LinkRecord, now = 0): CompletedBundle[] {
    this.owesAck = true;
    const ahead = seqDiff(seq, this.next);
    if (ahead < 0 || this.held.has(seq)) {
      this.stats.duplicates++;
      return [];
    }
    if (ahead >= REORDER_WINDOW) return []; // beyond what we can acknowledge; it will come again
    this.held.set(seq, { record, at: now });
    const done: CompletedBundle[] = [];
    for (let h = this.held.get(this.next); h; h = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.next = seqAdd(this.next, 1);
      this.stats.records++;
      const c = this.apply(h.record, h.at, now);
      if (c) done.push(c);
    }
    return done;
  }

  /** Cumulative acknowledgement: the next expected sequence number, and a bitmap of the held ones after it. */
  ackState(): { ack: number; bitmap: Uint8Array } {
    let highest = 0;
    for (const seq of this.held.keys()) highest = Math.max(highest, seqDiff(seq, this.next));
    const bitmap = new Uint8Array(Math.ceil(highest / 8));
    for (const seq of this.held.keys()) {
      const i = seqDiff(seq, this.next) - 1;
      bitmap[i >> 3]! |= 1 << (i & 7);
    }
    this.owesAck = false;
    return { ack: this.next, bitmap };
  }

  private apply(r: LinkRecord, arrivedAt: number, now: number): CompletedBundle | undefined {
    switch (r.kind) {
      case RecordKind.OPEN:
        return this.open(r, arrivedAt, now);
      case RecordKind.DATA:
        return this.append(r.xfer, r.offset, r.data, now);
      case RecordKind.CANCEL:
        this.cancel(r.id);
        return undefined;
      case RecordKind.RESUME:
      case RecordKind.CANCELLED:
      case RecordKind.REFUSE:
        this.answers.push(r);
        return undefined;
      default:
        return undefined;
    }
  }

  private open(r: Extract<LinkRecord, { kind: typeof RecordKind.OPEN }>, arrivedAt: number, now: number): CompletedBundle | undefined {
    const known = this.xferIds.get(r.xfer);
    if (known !== undefined && known !== r.id) this.xfersReused = true; // the sender's numbers wrapped: ids only from now on
    this.xferIds.set(r.xfer, r.id);
    if (this.progress.isDelivered(this.peer, r.id)) {
      this.stats.duplicates++;
      this.custody.push(this.confirmation(r.id, r.xfer)); // confirm again: the first confirmation may have been lost
      return undefined;
    }
    if (this.accepting.has(r.id)) return undefined; // custody (or a refusal) follows once the sink has decided
    const refused = this.refusals.get(r.id);
    if (refused) return void this.refuse(r.id, refused.status, refused.text, true);
    if (r.total > this.maxBundle) return void this.refuse(r.id, '5.3.4', `message too big for the radio link (${r.total} bytes; this station takes ${this.maxBundle})`, true);
    const deadlineAt = r.deadlineMs > 0 ? arrivedAt + r.deadlineMs : undefined;
    if (deadlineAt !== undefined && deadlineAt <= now) return void this.refuse(r.id, '5.4.7', 'delivery time expired before the radio link carried it', false);
    for (const [x, t] of this.transfers) if (t.id === r.id && x !== r.xfer) this.transfers.delete(x); // reopened under a new number
    let prior = this.progress.received(this.peer, r.id);
    const common = Math.min(prior?.length ?? 0, r.data.length);
    if (prior && r.offset === 0 && !sameBytes(prior.subarray(0, common), r.data.subarray(0, common))) {
      // What we hold is of an earlier bundle of the message (made again for this session): start afresh.
      this.progress.forget(this.peer, r.id);
      prior = undefined;
    }
    const have = prior && prior.length <= r.total ? prior.length : 0;
    const t: InTransfer = {
      id: r.id,
      xfer: r.xfer,
      total: r.total,
      hash: r.hash,
      openedAt: arrivedAt - r.ageMs,
      ...(deadlineAt !== undefined ? { deadlineAt } : {}),
      chunks: have ? [prior!] : [],
      have,
      ahead: new Map(),
      aheadBytes: 0,
      resumeAsked: false,
    };
    this.transfers.set(r.xfer, t);
    // A sender that restarted (or lost our acknowledgements) goes on from what it knew: tell it what we hold,
    // more (it skips ahead) or less (our progress was lost: it goes back).
    if (r.offset > have || r.offset + r.data.length < have) {
      t.resumeAsked = true;
      this.replies.push({ kind: RecordKind.RESUME, xfer: r.xfer, offset: have });
      if (r.offset > have) return undefined;
    }
    return this.append(r.xfer, r.offset, r.data, now);
  }

  /** The sender withdraws a message: answered by CUSTODY when it is already held, CANCELLED when it never will be. */
  private cancel(id: string): void {
    if (this.progress.isDelivered(this.peer, id)) return void this.custody.push(this.confirmation(id));
    if (this.accepting.has(id)) return void this.cancelWhileAccepting.add(id);
    for (const [x, t] of this.transfers) if (t.id === id) this.transfers.delete(x);
    this.progress.forget(this.peer, id);
    this.stats.cancelled++;
    this.replies.push({ kind: RecordKind.CANCELLED, id });
  }

  private refuse(id: string, status: string, reason: string, remember: boolean): void {
    // A REFUSE record's text is at most 255 bytes (docs/protocol.md section 8): a longer reason (a decoder's
    // detail, a store's error) would make a record the peer cannot decode, and the refusal would never arrive.
    const text = fitUtf8(reason, MAX_REFUSE_TEXT);
    this.stats.refused++;
    for (const [x, t] of this.transfers) if (t.id === id) this.transfers.delete(x);
    if (status.startsWith('5')) {
      this.progress.forget(this.peer, id);
      if (remember) this.refusals.set(id, { status, text });
    }
    this.replies.push({ kind: RecordKind.REFUSE, id, status, text });
    this.onRefuse(id, status, text);
  }

  /** Adds a segment at `offset`: overlaps are trimmed; a segment beyond a gap waits (bounded) for the gap to fill. */
  private append(xfer: number, offset: number, data: Uint8Array, now: number): CompletedBundle | undefined {
    const t = this.transfers.get(xfer);
    if (!t || data.length === 0) return t && this.maybeComplete(t, now);
    const end = offset + data.length;
    if (end > t.total) return undefined; // a confused sender: ignored, and the hash decides at the end
    if (offset > t.have) {
      if (!t.ahead.has(offset) && t.aheadBytes + data.length <= MAX_AHEAD_BYTES) {
        t.ahead.set(offset, data);
        t.aheadBytes += data.length;
      }
      return undefined;
    }
    this.extend(t, offset, data);
    // Segments that waited beyond the gap now follow on.
    for (let moved = true; moved; ) {
      moved = false;
      for (const [o, d] of t.ahead) {
        if (o > t.have) continue;
        t.ahead.delete(o);
        t.aheadBytes -= d.length;
        this.extend(t, o, d);
        moved = true;
      }
    }
    return this.maybeComplete(t, now);
  }

  private extend(t: InTransfer, offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end <= t.have) return;
    const piece = data.subarray(t.have - offset);
    // Durable before it is acknowledged (contracts.ts): a restart resumes from here.
    this.progress.appendReceived(this.peer, t.id, t.have, piece);
    t.chunks.push(piece);
    t.have = end;
    t.resumeAsked = false;
  }

  private maybeComplete(t: InTransfer, now: number): CompletedBundle | undefined {
    if (t.have < t.total) return undefined;
    const bundle = Buffer.concat(t.chunks);
    this.transfers.delete(t.xfer);
    if (!sameBytes(bundleHash(bundle), t.hash)) {
      this.stats.hashMismatches++;
      this.progress.forget(this.peer, t.id);
      this.replies.push({ kind: RecordKind.RESUME, xfer: t.xfer, offset: 0 });
      this.transfers.set(t.xfer, { ...t, chunks: [], have: 0, ahead: new Map(), aheadBytes: 0, resumeAsked: true });
      return undefined;
    }
    // The sender withdraws it at its deadline; taking it later would give the message two outcomes.
    if (t.deadlineAt !== undefined && now > t.deadlineAt) return void this.refuse(t.id, '5.4.7', 'delivery time expired before the radio link carried it', false);
    this.accepting.add(t.id);
    return { id: t.id, bundle, openedAt: t.openedAt, session: this.session, xfer: t.xfer };
  }

  /**
   * The sink would not take it. A permanent refusal is remembered and sent; a transient one is sent too (the
   * sender backs off and offers it again, and the bytes kept here make that offer complete at once). A message
   * withdrawn meanwhile is answered CANCELLED instead.
   */
  failed(id: string, status: string, text: string): void {
    this.accepting.delete(id);
    if (this.cancelWhileAccepting.delete(id)) return this.cancel(id);
    this.refuse(id, status, text, true);
  }

  /**
   * Called once the sink holds the message durably, with what its bundle carried (its stream) when it completed
   * in `session`: in this session it takes the next slot of the history, which its custody tells the sender.
   */
  delivered(id: string, stream?: Uint8Array, session = this.session, xfer?: number): void {
    this.accepting.delete(id);
    this.cancelWhileAccepting.delete(id);
    this.progress.markDelivered(this.peer, id);
    if (stream && session === this.session) {
      const slot = this.history.nextSlot();
      this.history.add(slot, stream);
      this.slotOf.set(id, slot);
    }
    this.custody.push(this.confirmation(id, session === this.session ? xfer : undefined));
  }

  /** A custody entry: by the transfer number of this session when it names only this message, else by id. */
  private confirmation(id: string, xfer?: number): CustodyEntry {
    const slot = this.slotOf.get(id) ?? 0;
    return xfer !== undefined && !this.xfersReused && this.xferIds.get(xfer) === id ? { slot, xfer } : { slot, id };
  }

  /** Whether the sink is still deciding about a message (its answer is owed). */
  get deciding(): boolean {
    return this.accepting.size > 0;
  }
}

/** Longest text of a REFUSE record, in UTF-8 bytes. */
const MAX_REFUSE_TEXT = 255;

/** `text` cut to at most `max` UTF-8 bytes, never inside a character. */
export function fitUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}

/** The custody hash: the first bytes of SHA-256 of the bundle as sent. */
export function bundleHash(bundle: Uint8Array): Uint8Array {
  return createHash('sha256').update(bundle).digest().subarray(0, HASH_BYTES);
}
