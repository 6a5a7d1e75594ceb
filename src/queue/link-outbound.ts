import { failpoint, type QueuedMessage, type Recipient } from '../core/index.ts';
import type { LinkItemRow as ItemRow, MessageStore } from './message-store.ts';

/**
 * Messages of the session the peer holds, offered by the link to compress a bundle against (the codec's
 * BundleContext, satisfied structurally): a bundle made with one lives only in that session.
 */
export interface SessionContext {
  readonly count: number;
  readonly excluded: readonly number[];
  readonly history: Uint8Array;
}

/**
 * A message waiting for the radio link, as the link's scheduler sees it (the link's OutboundItem, satisfied
 * structurally: the queue does not import the link): ids, priority, deadlines and size, never the body. The
 * bundle is made, from the stored message, only when its transfer first opens.
 */
export interface LinkItem {
  readonly id: string;
  readonly priority: number;
  readonly deadline?: number;
  readonly queuedAt: number;
  readonly size: number;
  readonly madeAt?: number;
  bundle(peerDictionaries: readonly number[], context?: SessionContext): Uint8Array;
}

/**
 * One waiting message: plain fields and a method on the prototype, no closure per message, so a backlog of
 * 100,000 costs the scheduler a few MB.
 */
class QueuedLinkItem implements LinkItem {
  readonly madeAt?: number;
  readonly deadline?: number;

  constructor(
    private readonly outbound: LinkOutbound,
    readonly id: string,
    readonly priority: number,
    readonly queuedAt: number,
    readonly size: number,
    madeAt: number | null,
    deadline: number | null,
  ) {
    if (madeAt !== null) this.madeAt = madeAt;
    if (deadline !== null) this.deadline = deadline;
  }

  bundle(peerDictionaries: readonly number[], context?: SessionContext): Uint8Array {
    return this.outbound.bundleOf(this.id, peerDictionaries, context);
  }
}

/** What the queue cannot do itself: make a bundle (the codec), and the outcomes that need the relay's DSN rules. */
export interface LinkOutboundDeps {
  /** The bundle of `message` for the recipients the link carries, compressed with one of the peer's dictionaries. */
  makeBundle(message: QueuedMessage, recipients: readonly Recipient[], peerDictionaries: readonly number[], now: number, context?: SessionContext): Uint8Array;
  /** A deadline passed and the peer confirmed it does not hold the message. */
  withdrawn(id: string, now: number): void;
  /** The peer will not take it, for good. */
  refused(id: string, status: string, text: string, now: number): void;
  readonly now: () => number;
}


/**
 * The queue as one radio link's outbound side (the link's OutboundSource): one indexed query lists what waits
 * for the peer, light; custody is recorded here, in one transaction with forgetting the transfer.
 */
export class LinkOutbound {
  constructor(
    private readonly store: MessageStore,
    private readonly peer: string,
    private readonly deps: LinkOutboundDeps,
  ) {}

  pending(): readonly LinkItem[] {
    return this.store.linkItems(this.peer).map((r) => this.item(r));
  }

  /** Just these messages (new ones), so that a message arriving costs the link one row, not the whole backlog. */
  itemsById(ids: readonly string[]): readonly LinkItem[] {
    return this.store.linkItemsById(this.peer, ids).map((r) => this.item(r));
  }

  private item(r: ItemRow): LinkItem {
    // Only deadlines that end the attempt withdraw it from the link: an R-mode BY (all recipients), and an ABY
    // when a recipient still waiting for the link has an alternate. ABY without ARCPT has no effect.
    const by = r.by_mode === 'R' ? r.by_at : null;
    const aby = r.has_arcpt ? r.aby_at : null;
    const deadline = by === null ? aby : aby === null ? by : Math.min(by, aby);
    return new QueuedLinkItem(this, r.id, r.priority, r.received_at, r.size, r.made_at, deadline);
  }

  /**
   * The bundle for a message, made when its first frame goes and kept: a transfer resumed after a restart must
   * send the same bytes, and say how old they are (the deadlines inside count from when they were made). One
   * offered the session's history is made now and kept only as the record that it went on the air (a CANCEL,
   * not a silent withdrawal, once its deadline passes): it cannot outlive its session, so it is made again
   * whenever the link asks for it.
   */
  bundleOf(id: string, dictionaries: readonly number[], context?: SessionContext): Uint8Array {
    const now = this.deps.now();
    const make = () => {
      const m = this.store.get(id);
      if (!m) throw new Error(`message ${id} is no longer in the queue`);
      const mine = m.recipients.filter((rc) => rc.state === 'queued' && rc.route.kind === 'link' && rc.route.target === this.peer);
      return this.deps.makeBundle(m, mine, dictionaries, now, context);
    };
    if (!context || context.count === 0) return this.store.link.bundle(this.peer, id, make, now);
    const b = make();
    this.store.link.sessionBundle(this.peer, id, b, now);
    return b;
  }

  custodyConfirmed(id: string): void {
    failpoint('custody-confirmed'); // the peer holds it; we have not recorded that yet
    const now = this.deps.now();
    this.store.transaction(() => {
      this.store.finishLink(id, this.peer, 'delivered', { status: '2.0.0', text: `in the custody of ${this.peer}`, at: now, remoteMta: this.peer });
      this.store.link.forget(this.peer, id);
    });
  }

  expired(id: string, now: number): void {
    this.deps.withdrawn(id, now);
  }

  refused(id: string, status: string, text: string, now: number): void {
    this.deps.refused(id, status, text, now);
  }
}

