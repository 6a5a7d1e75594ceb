import type { BundleContext } from '../codec/index.ts';

/**
 * What the link needs from the layers around it. The link owns these contracts; the queue implements them
 * (design.md section 2), and tests and the simulator use the in-memory versions below.
 */

/** A message waiting to cross the link. */
export interface OutboundItem {
  readonly id: string;
  /** Determined MT-PRIORITY value, -9..9. */
  readonly priority: number;
  /** Earliest of the BY and ABY deadlines, ms since the epoch, if any. */
  readonly deadline?: number;
  /** When it was queued, for FIFO order and ties. */
  readonly queuedAt: number;
  /**
   * The encoded bundle: what crosses the link, byte for byte. A function is called once, when the transfer
   * first opens, so that deadlines inside count from the first frame (design.md, DELIVERBY across the hop); it
   * is given the dictionary versions the peer said it holds, and must compress with one of them, and the
   * session's history (messages the peer holds), which it may compress against (docs/protocol.md). Given a
   * history, it makes the bundle anew (one made against an earlier history is void); without one it may return a
   * bundle kept from before, unless that one was made against a history. Called again for a message whose
   * bundle the peer could not decode, or whose session ended before custody.
   */
  readonly bundle: Uint8Array | ((peerDictionaries: readonly number[], context?: BundleContext) => Uint8Array);
  /**
   * When a bundle made before (by an earlier run) was made, ms since the epoch: the deadlines inside count from
   * then. Without it, the moment the transfer first opens.
   */
  readonly madeAt?: number;
  /** Its size in bytes, or an estimate while the bundle is not made yet (for the scheduler's "smallest"). */
  readonly size?: number;
}

export interface OutboundSource {
  /** Messages for this peer that have no custody confirmation yet. */
  pending(): readonly OutboundItem[];
  /** Optional: just these messages, when the source knows which are new (cheaper than `pending()` on a backlog). */
  itemsById?(ids: readonly string[]): readonly OutboundItem[];
  /** Called when the peer confirmed it holds the message durably: the sender may now forget it. */
  custodyConfirmed(id: string): void;
  /**
   * Called when a deadline passed and the peer confirmed it does not hold the message (it answered CANCEL
   * with CANCELLED, or refused it for its deadline): the message is withdrawn from the link. Never called for
   * a message the peer took into custody.
   */
  expired(id: string, now: number): void;
  /** The peer will not take the message (REFUSE with a permanent RFC 3463 status): its recipients failed. */
  refused(id: string, status: string, text: string, now: number): void;
}

/**
 * Thrown (or rejected with) by an InboundSink that will not take a bundle. A 5.x.x status is final and goes back
 * to the sender in a REFUSE record; a 4.x.x one is transient: the sender is told to back off and offer it again.
 */
export class LinkRefusal extends Error {
  constructor(
    readonly status: string,
    readonly text: string,
  ) {
    super(`${status} ${text}`);
    this.name = 'LinkRefusal';
    if (!/^[45]\.\d{1,3}\.\d{1,3}$/.test(status)) throw new RangeError(`LinkRefusal: ${status} is not an RFC 3463 status`);
  }

  get permanent(): boolean {
    return this.status.startsWith('5');
  }
}

export interface InboundSink {
  /**
   * Resolves once the message is durable on this side; only then does the link confirm custody. `openedAt` is
   * when the transfer's first record arrived: deadlines in the bundle count from then. `history` is the session
   * history the bundle names, rebuilt here (absent when it names none).
   */
  accept(id: string, bundle: Uint8Array, openedAt: number, history?: Uint8Array): Promise<void>;
}

/** Partial progress, so that a restart resumes from the last acknowledged byte. */
export interface ProgressStore {
  /** Sender side: bytes of a message the peer has acknowledged (a contiguous prefix). */
  sentOffset(peer: string, id: string): number;
  setSentOffset(peer: string, id: string, offset: number): void;
  /** Receiver side: the prefix received so far (the link only acknowledges what was saved here). */
  received(peer: string, id: string): Uint8Array | undefined;
  /**
   * Receiver side: the next piece of that prefix (`offset` is the length saved so far), durable on return. Saved
   * frame by frame, so a receiver that dies mid-over loses at most the frame it was reading.
   */
  appendReceived(peer: string, id: string, offset: number, data: Uint8Array): void;
  /** Receiver side: ids already accepted, for duplicate suppression. */
  isDelivered(peer: string, id: string): boolean;
  markDelivered(peer: string, id: string): void;
  forget(peer: string, id: string): void;
}

export class MemoryProgressStore implements ProgressStore {
  private readonly sent = new Map<string, number>();
  private readonly partial = new Map<string, Uint8Array[]>();
  private readonly delivered = new Set<string>();

  sentOffset(peer: string, id: string): number {
    return this.sent.get(`${peer}\0${id}`) ?? 0;
  }
  setSentOffset(peer: string, id: string, offset: number): void {
    this.sent.set(`${peer}\0${id}`, offset);
  }
  received(peer: string, id: string): Uint8Array | undefined {
    const chunks = this.partial.get(`${peer}\0${id}`);
    return chunks && Buffer.concat(chunks);
  }
  appendReceived(peer: string, id: string, offset: number, data: Uint8Array): void {
    const key = `${peer}\0${id}`;
    const chunks = offset === 0 ? [] : (this.partial.get(key) ?? []);
    chunks.push(Uint8Array.from(data));
    this.partial.set(key, chunks);
  }
  isDelivered(peer: string, id: string): boolean {
    return this.delivered.has(`${peer}\0${id}`);
  }
  markDelivered(peer: string, id: string): void {
    this.delivered.add(`${peer}\0${id}`);
    this.partial.delete(`${peer}\0${id}`);
  }
  forget(peer: string, id: string): void {
    this.sent.delete(`${peer}\0${id}`);
    this.partial.delete(`${peer}\0${id}`);
  }
}

/** A queue of outbound items kept in memory: the simulator's and the tests' OutboundSource. */
export class MemoryOutbound implements OutboundSource {
  private readonly items = new Map<string, OutboundItem>();
  readonly confirmed: string[] = [];
  readonly withdrawn: string[] = [];
  readonly refusals: { id: string; status: string; text: string }[] = [];
  private listener: (() => void) | undefined;

  add(item: OutboundItem): void {
    this.items.set(item.id, item);
    this.listener?.();
  }
  /** The link registers here to hear about new messages. */
  onAdd(listener: () => void): void {
    this.listener = listener;
  }
  pending(): readonly OutboundItem[] {
    return [...this.items.values()];
  }
  custodyConfirmed(id: string): void {
    if (this.items.delete(id)) this.confirmed.push(id);
  }
  expired(id: string): void {
    if (this.items.delete(id)) this.withdrawn.push(id);
  }
  refused(id: string, status: string, text: string): void {
    if (this.items.delete(id)) this.refusals.push({ id, status, text });
  }
}
