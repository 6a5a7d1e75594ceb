import type { Logger } from 'pino';
import { bundleFromMessage, decodeBundle, encodeBundle, isCodecError, mailParamsFromBundle, SUPPORTED_DICTIONARY_VERSIONS } from '../codec/index.ts';
import { failpoint, type Clock, type QueuedMessage, type Recipient, type Route } from '../core/index.ts';
import { LinkRefusal, type InboundSink } from '../link/index.ts';
import { countReceived, headerFields, rfc5322Date } from '../mail/index.ts';
import { LinkOutbound, type MessageStore } from '../queue/index.ts';
import type { RelayRunner } from '../relay/index.ts';

export interface LinkEndpointOptions {
  readonly station: string;
  readonly hostname: string;
  readonly peer: string;
  readonly route: (address: string) => Route | null;
  readonly clock: Clock;
  readonly log: Logger;
  /** Largest message content taken from the peer (the station's maxMessageSize). */
  readonly maxMessageSize: number;
  /** Received fields at which a message is a loop (RFC 5321 6.3). */
  readonly maxReceived: number;
}

/** Room for the Received lines stations add, above the message size a client may send. */
const TRACE_SLACK_BYTES = 64 * 1024;

/** The best dictionary both stations hold (0: none). */
export function commonDictionary(peerDictionaries: readonly number[]): number {
  return Math.max(0, ...SUPPORTED_DICTIONARY_VERSIONS.filter((d) => peerDictionaries.includes(d)));
}

/**
 * The outbound side of one radio link: the queue's LinkOutbound, given the codec to make bundles and the relay
 * for the outcomes that need DSNs (a withdrawal, a refusal).
 */
export function linkOutbound(store: MessageStore, relay: RelayRunner, o: LinkEndpointOptions): LinkOutbound {
  return new LinkOutbound(store, o.peer, {
    now: () => o.clock.now(),
    makeBundle: (m, recipients, dictionaries, now) => encodeBundle(bundleFromMessage({ ...m, recipients: [...recipients] }, now), commonDictionary(dictionaries)),
    withdrawn: (id) => {
      o.log.warn({ msgId: id, peer: o.peer }, 'deadline passed before the link carried it; the peer confirmed it does not hold it');
      relay.linkWithdrawn(id, o.peer);
    },
    refused: (id, status, text) => {
      o.log.warn({ msgId: id, peer: o.peer, status }, `the peer refused the message: ${text}`);
      relay.linkRefused(id, o.peer, status, text);
    },
  });
}

/**
 * Where the peer's messages land (the link's InboundSink): decoded, checked for loops, re-anchored, routed
 * here, and stored durably (with the note of which peer handed it over) before custody is given. Whatever
 * will never be taken is refused with the RFC 3463 status the sender's DSN will carry.
 */
export class LinkInbound implements InboundSink {
  constructor(
    private readonly store: MessageStore,
    private readonly relay: RelayRunner,
    private readonly o: LinkEndpointOptions,
  ) {}

  async accept(id: string, bytes: Uint8Array, openedAt: number): Promise<void> {
    // The content carries the sender's own trace lines on top of what its client sent (at most maxMessageSize
    // there too): a little room for them, so a message at the limit is not refused after crossing the radio.
    const b = decodeBundle(bytes, { maxContent: this.o.maxMessageSize + TRACE_SLACK_BYTES, maxRecipients: 1000, dictionaries: SUPPORTED_DICTIONARY_VERSIONS });
    if (isCodecError(b)) {
      if (b.error === 'too-large') throw new LinkRefusal('5.3.4', `message too big for ${this.o.station} (${this.o.maxMessageSize} bytes at most): ${b.detail}`);
      throw new LinkRefusal(b.error === 'unknown-dictionary' ? '5.6.5' : '5.6.0', `the bundle cannot be decoded at ${this.o.station}: ${b.error}: ${b.detail}`);
    }
    if (b.id !== id) throw new LinkRefusal('5.6.0', `the bundle names itself ${b.id}, not ${id}`);
    // RFC 5321 6.3: too many Received fields is a loop; our own line comes on top of those it has.
    const received = countReceived(headerFields(b.content)) + 1;
    if (received >= this.o.maxReceived) throw new LinkRefusal('5.4.6', `routing loop detected at ${this.o.station}: ${received} Received header fields`);
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
    const taken = this.store.takeFromLink(this.o.peer, message, now);
    if (taken === 'loop') throw new LinkRefusal('5.4.6', `routing loop: message ${id} has passed ${this.o.station} before`);
    if (taken === 'taken-before') return; // its custody confirmation was lost: confirm again, take nothing
    failpoint('inbound-stored'); // durable here, custody not yet confirmed, not yet delivered
    this.o.log.info({ msgId: id, peer: this.o.peer, priority: b.priority.value, rcpts: recipients.length }, 'message taken from the link');
    this.relay.kick();
  }
}
