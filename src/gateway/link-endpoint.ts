import type { Logger } from 'pino';
import { bundleFromMessage, decodeBundle, encodeBundle, isCodecError, mailParamsFromBundle, SUPPORTED_DICTIONARY_VERSIONS } from '../codec/index.ts';
import { failpoint, type Clock, type QueuedMessage, type Recipient, type Route } from '../core/index.ts';
import { LinkRefusal, type InboundSink, type OutboundItem, type OutboundSource, type ProgressStore } from '../link/index.ts';
import { rfc5322Date } from '../mail/index.ts';
import type { MessageStore } from '../queue/index.ts';
import type { RelayRunner } from '../relay/index.ts';

/**
 * The queue as one radio link's endpoint: what waits for the peer (OutboundSource), where the peer's messages
 * land (InboundSink, durable before custody), and the link's progress (ProgressStore), all in the queue's
 * database.
 */
export class LinkEndpoint implements OutboundSource, InboundSink {
  readonly progress: ProgressStore;

  constructor(
    private readonly store: MessageStore,
    private readonly relay: RelayRunner,
    private readonly o: { station: string; hostname: string; peer: string; dictionaries: readonly number[]; route: (address: string) => Route | null; clock: Clock; log: Logger },
  ) {
    // The queue's link table has exactly the ProgressStore methods.
    this.progress = store.link;
  }

  pending(): readonly OutboundItem[] {
    const items: OutboundItem[] = [];
    for (const id of this.store.linkPending(this.o.peer)) {
      const m = this.store.get(id);
      if (!m) continue;
      const mine = m.recipients.filter((r) => r.state === 'queued' && r.route.kind === 'link' && r.route.target === this.o.peer);
      // Made when its first frame goes, and kept: a transfer resumed after a restart must send the same bytes,
      // and say how old they are (the deadlines inside count from when they were made).
      // Compressed with the best dictionary both stations hold (0: none), as the peer said in its hello.
      const bundle = (peerDictionaries: readonly number[]) => {
        const now = this.o.clock.now();
        const dictionary = Math.max(0, ...this.o.dictionaries.filter((d) => peerDictionaries.includes(d)));
        return this.store.link.bundle(this.o.peer, id, () => encodeBundle(bundleFromMessage({ ...m, recipients: mine }, now), dictionary), now);
      };
      const madeAt = this.store.link.madeAt(this.o.peer, id);
      // Only deadlines that end the attempt withdraw it from the link: R-mode BY, and ABY where there is an alternate.
      const deadlines = [m.params.by?.mode === 'R' ? m.params.by.at : undefined, mine.some((r) => r.arcpt) ? m.params.aby?.at : undefined].filter((x): x is number => x !== undefined);
      items.push({ id, priority: m.priority.value, queuedAt: m.receivedAt, bundle, size: Math.ceil(m.content.length / 2), ...(madeAt !== undefined ? { madeAt } : {}), ...(deadlines.length ? { deadline: Math.min(...deadlines) } : {}) });
    }
    return items;
  }

  custodyConfirmed(id: string): void {
    failpoint('custody-confirmed'); // the peer holds it; we have not recorded that yet
    this.store.finishLink(id, this.o.peer, 'delivered', { status: '2.0.0', text: `in the custody of ${this.o.peer}`, at: this.o.clock.now(), remoteMta: this.o.peer });
    this.store.link.forget(this.o.peer, id);
    this.o.log.info({ msgId: id, peer: this.o.peer }, 'custody taken by the peer');
  }

  refused(id: string, status: string, text: string): void {
    this.o.log.warn({ msgId: id, peer: this.o.peer, status }, `the peer refused the message: ${text}`);
    this.relay.linkRefused(id, this.o.peer, status, text);
    this.store.link.forget(this.o.peer, id);
  }

  expired(id: string): void {
    this.o.log.warn({ msgId: id, peer: this.o.peer }, 'deadline passed before the link carried it');
    this.relay.linkWithdrawn(id, this.o.peer);
    this.store.link.forget(this.o.peer, id);
  }

  /** A message from the peer: decoded, re-anchored, routed here, stored (durably) before custody is given. */
  async accept(id: string, bytes: Uint8Array, openedAt: number): Promise<void> {
    if (this.store.get(id)) return; // taken before: the custody confirmation was lost
    const b = decodeBundle(bytes, { maxContent: 64 * 1024 * 1024, maxRecipients: 1000, dictionaries: SUPPORTED_DICTIONARY_VERSIONS });
    // What cannot be decoded now never will be: refused for good, so the sender's DSN says why.
    if (isCodecError(b)) throw new LinkRefusal(b.error === 'too-large' ? '5.3.4' : b.error === 'unknown-dictionary' ? '5.6.5' : '5.6.0', `the bundle cannot be decoded here: ${b.error}: ${b.detail}`);
    if (b.id !== id) throw new LinkRefusal('5.6.0', `the bundle names itself ${b.id}, not ${id}`);
    const now = this.o.clock.now();
    // Deadlines count from when the transfer began (design.md: the receiver subtracts the transfer time); whole
    // ms, rounded down, as the queue keeps time.
    const params = mailParamsFromBundle(b, Math.floor(openedAt));
    const recipients: Recipient[] = b.recipients.map((r) => ({ ...r, route: this.o.route(r.address) ?? { kind: 'mx', target: '' }, state: 'queued' }));
    // RFC 5321 3.7.2: a gateway out of a foreign environment adds its Received line, naming the environment.
    const trace = `Received: from ${this.o.peer} by ${this.o.hostname} via hfmail-radio with HFMAIL id ${id}\r\n        PRIORITY ${b.priority.value}; ${rfc5322Date(new Date(now))}\r\n`;
    const message: QueuedMessage = {
      id,
      receivedAt: b.receivedAt,
      sender: b.sender,
      params,
      priority: b.priority,
      recipients,
      submitter: { clientAddress: `link:${this.o.peer}`, clientHostname: '', helo: this.o.peer, trusted: true, ...(b.submitter?.user ? { user: b.submitter.user } : {}) },
      content: Buffer.concat([Buffer.from(trace, 'utf8'), b.content]),
    };
    this.store.insert(message);
    failpoint('inbound-stored'); // durable here, custody not yet confirmed, not yet delivered
    this.o.log.info({ msgId: id, peer: this.o.peer, priority: b.priority.value, rcpts: recipients.length }, 'message taken from the link');
    this.relay.kick();
  }
}
