import { createHash } from 'node:crypto';
import { HASH_BYTES, RecordKind, type LinkRecord } from '../codec/link-frame.ts';
import type { ProgressStore } from './contracts.ts';
import { seqAdd, seqDiff } from './seq.ts';

/** Most records held out of order, and so the width of the acknowledgement bitmap (64 bytes). */
export const REORDER_WINDOW = 512;

interface InTransfer {
  readonly id: string;
  readonly total: number;
  readonly hash: Uint8Array;
  readonly openedAt: number;
  chunks: Uint8Array[];
  have: number;
  resumeAsked: boolean;
}

export interface CompletedBundle {
  readonly id: string;
  readonly bundle: Uint8Array;
  readonly openedAt: number;
}

/**
 * The receiving half of the ARQ: records are applied in sequence order (out-of-order ones wait in a bounded
 * buffer), transfers are reassembled without allocating what the peer declares, and a complete transfer is
 * handed out only when its hash matches.
 */
export class Receiver {
  private next = 0;
  /** Records ahead of a gap, with when each arrived (an OPEN is dated from its arrival, not from the gap's filling). */
  private readonly held = new Map<number, { record: LinkRecord; at: number }>();
  private readonly transfers = new Map<number, InTransfer>();
  /** Records arrived since the last acknowledgement. */
  owesAck = false;
  /** Ids to confirm in the next CUSTODY frame. */
  readonly custody: string[] = [];
  /** Records for the sender (RESUME). */
  readonly replies: LinkRecord[] = [];
  /** RESUME records from the peer, for our own sending side, in sequence order. */
  readonly resumes: { xfer: number; offset: number }[] = [];
  /** Complete messages handed to the sink and not yet durable there: never handed out twice. */
  private readonly accepting = new Set<string>();
  readonly stats = { records: 0, duplicates: 0, hashMismatches: 0, refused: 0 };

  constructor(
    private readonly peer: string,
    private readonly progress: ProgressStore,
    private readonly maxBundle: number,
  ) {}

  /** A new session starts: sequence numbers restart, transfers are re-opened by the sender. */
  reset(): void {
    this.next = 0;
    this.held.clear();
    this.transfers.clear();
    this.owesAck = false;
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
      const c = this.apply(h.record, h.at);
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

  private apply(r: LinkRecord, arrivedAt: number): CompletedBundle | undefined {
    switch (r.kind) {
      case RecordKind.OPEN: {
        if (this.progress.isDelivered(this.peer, r.id)) {
          this.stats.duplicates++;
          this.custody.push(r.id); // confirm again: the first confirmation may have been lost
          return undefined;
        }
        if (this.accepting.has(r.id)) return undefined; // custody follows once the sink has it
        if (r.total > this.maxBundle) {
          this.stats.refused++;
          return undefined;
        }
        const prior = this.progress.received(this.peer, r.id);
        const have = prior && prior.length <= r.total ? prior.length : 0;
        this.transfers.set(r.xfer, { id: r.id, total: r.total, hash: r.hash, openedAt: arrivedAt - r.ageMs, chunks: have ? [prior!] : [], have, resumeAsked: false });
        const done = this.append(r.xfer, r.offset, r.data);
        // A sender that restarted (or lost our acknowledgements) goes on from what it knew: tell it what we hold.
        const t = this.transfers.get(r.xfer);
        if (!done && t && !t.resumeAsked && r.offset + r.data.length < t.have) this.replies.push({ kind: RecordKind.RESUME, xfer: r.xfer, offset: t.have });
        return done;
      }
      case RecordKind.DATA:
        return this.append(r.xfer, r.offset, r.data);
      case RecordKind.CANCEL: {
        const t = this.transfers.get(r.xfer);
        if (t) this.progress.forget(this.peer, t.id);
        this.transfers.delete(r.xfer);
        return undefined;
      }
      case RecordKind.RESUME:
        this.resumes.push({ xfer: r.xfer, offset: r.offset });
        return undefined;
      default:
        return undefined;
    }
  }

  /** Adds a segment at `offset`: overlaps are trimmed, and a gap means we hold less than the sender thinks. */
  private append(xfer: number, offset: number, data: Uint8Array): CompletedBundle | undefined {
    const t = this.transfers.get(xfer);
    if (!t) return undefined;
    const end = offset + data.length;
    if (offset > t.have || end > t.total) {
      // Our progress was lost (or the sender is confused): ask once to go back to what we hold.
      if (!t.resumeAsked) this.replies.push({ kind: RecordKind.RESUME, xfer, offset: t.have });
      t.resumeAsked = true;
      return undefined;
    }
    if (end > t.have) {
      const piece = data.subarray(t.have - offset);
      // Durable before it is acknowledged (contracts.ts): a restart resumes from here.
      this.progress.appendReceived(this.peer, t.id, t.have, piece);
      t.chunks.push(piece);
      t.have = end;
      t.resumeAsked = false;
    }
    return this.maybeComplete(xfer);
  }

  private maybeComplete(xfer: number): CompletedBundle | undefined {
    const t = this.transfers.get(xfer)!;
    if (t.have < t.total) return undefined;
    const bundle = Buffer.concat(t.chunks);
    this.transfers.delete(xfer);
    if (!sameHash(bundleHash(bundle), t.hash)) {
      this.stats.hashMismatches++;
      this.progress.forget(this.peer, t.id);
      this.replies.push({ kind: RecordKind.RESUME, xfer, offset: 0 });
      this.transfers.set(xfer, { ...t, chunks: [], have: 0, resumeAsked: true });
      return undefined;
    }
    this.accepting.add(t.id);
    return { id: t.id, bundle, openedAt: t.openedAt };
  }

  /** The sink could not store it: forget the attempt, so the sender's next offer is taken again. */
  failed(id: string): void {
    this.accepting.delete(id);
  }

  /** Called once the sink holds the message durably. */
  delivered(id: string): void {
    this.accepting.delete(id);
    this.progress.markDelivered(this.peer, id);
    this.custody.push(id);
  }
}

/** The custody hash: the first bytes of SHA-256 of the bundle as sent. */
export function bundleHash(bundle: Uint8Array): Uint8Array {
  return createHash('sha256').update(bundle).digest().subarray(0, HASH_BYTES);
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
