import type { Logger } from 'pino';
import { decodeBundle, isCodecError, mailParamsFromBundle, SUPPORTED_DICTIONARY_VERSIONS } from '../codec/index.ts';
import { contentOf, linkBundle } from './link-bundle.ts';
import { failpoint, storageFault, type Clock, type QueuedMessage, type Recipient, type Route } from '../core/index.ts';
import { LinkRefusal, type InboundSink, type ProgressStore } from '../link/index.ts';
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
    makeBundle: (m, recipients, dictionaries, now, context) => linkBundle({ ...m, recipients: [...recipients] }, now, commonDictionary(dictionaries), context),
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

  async accept(id: string, bytes: Uint8Array, openedAt: number, history?: Uint8Array): Promise<void> {
    // The content carries the sender's own trace lines on top of what its client sent (at most maxMessageSize
    // there too): a little room for them, so a message at the limit is not refused after crossing the radio.
    const b = decodeBundle(bytes, { maxContent: this.o.maxMessageSize + TRACE_SLACK_BYTES, maxRecipients: 1000, dictionaries: SUPPORTED_DICTIONARY_VERSIONS }, history, id);
    if (isCodecError(b)) {
      // Compressed against the session's messages and not decodable with the history rebuilt here: the sender
      // makes it again without (never a bounce for what a history mismatch could cause).
      if (history && b.error !== 'too-large') throw new LinkRefusal('4.6.0', `the bundle does not decode against this session's history at ${this.o.station}: ${b.error}`);
      if (b.error === 'too-large') throw new LinkRefusal('5.3.4', `message too big for ${this.o.station} (${this.o.maxMessageSize} bytes at most): ${b.detail}`);
      throw new LinkRefusal(b.error === 'unknown-dictionary' ? '5.6.5' : '5.6.0', `the bundle cannot be decoded at ${this.o.station}: ${b.error}: ${b.detail}`);
    }
    if (b.id !== id) throw new LinkRefusal('5.6.0', `the bundle names itself ${b.id}, not ${id}`);
    const content = contentOf(b);
    // RFC 5321 6.3: too many Received fields is a loop; our own line comes on top of those it has.
    const received = countReceived(headerFields(content)) + 1;
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
      content: Buffer.concat([Buffer.from(trace, 'utf8'), content]),
    };
    let taken: ReturnType<MessageStore['takeFromLink']>;
    try {
      taken = this.store.takeFromLink(this.o.peer, message, now);
    } catch (err) {
      // Our disk is full or failing: refused for now (RFC 3463 4.3.1 mail system full, 4.3.0 other), so the
      // sender keeps the message and offers it again after its backoff; nothing here stops.
      const fault = storageFault(err);
      if (fault === 'full') throw new LinkRefusal('4.3.1', `mail system full at ${this.o.station}: the message cannot be stored now`);
      if (fault === 'io') throw new LinkRefusal('4.3.0', `the queue of ${this.o.station} cannot be written now`);
      throw err;
    }
    if (taken === 'loop') throw new LinkRefusal('5.4.6', `routing loop: message ${id} has passed ${this.o.station} before`);
    if (taken === 'taken-before') return; // its custody confirmation was lost: confirm again, take nothing
    failpoint('inbound-stored'); // durable here, custody not yet confirmed, not yet delivered
    this.o.log.info({ msgId: id, peer: this.o.peer, priority: b.priority.value, rcpts: recipients.length }, 'message taken from the link');
    this.relay.kick();
  }
}

/**
 * The link's ProgressStore over the queue's link table, for a disk that may fill up: progress is an
 * optimisation the protocol can lose (a receiver that lacks what it acknowledged says so with RESUME, and a
 * sender resends), so a storage fault while saving or reading it is absorbed here instead of being thrown into
 * the serial port's data handler. Every other error goes through. One log line when the fault starts, one when
 * it ends.
 */
export function faultTolerantProgress(inner: ProgressStore, log: Logger): ProgressStore {
  let faulted: { op: string; count: number } | undefined;
  const guard = <T>(what: string, fn: () => T, fallback: T): T => {
    try {
      const v = fn();
      // Reads, and writes that free space, go on working on a full disk: the state ends when what failed works.
      if (faulted?.op === what) {
        log.info({ faults: faulted.count }, 'link progress is saved again');
        faulted = undefined;
      }
      return v;
    } catch (err) {
      const fault = storageFault(err);
      if (!fault) throw err;
      if (faulted) faulted.count++;
      else {
        faulted = { op: what, count: 1 };
        log.error({ err: (err as Error)?.message, fault, op: what }, `${fault === 'full' ? 'disk full' : 'storage failing'}: link progress is kept in memory only (a restart resends it)`);
      }
      return fallback;
    }
  };
  return {
    sentOffset: (peer, id) => guard('sentOffset', () => inner.sentOffset(peer, id), 0),
    setSentOffset: (peer, id, offset) => guard('setSentOffset', () => inner.setSentOffset(peer, id, offset), undefined),
    received: (peer, id) => guard('received', () => inner.received(peer, id), undefined),
    appendReceived: (peer, id, offset, data) => guard('appendReceived', () => inner.appendReceived(peer, id, offset, data), undefined),
    isDelivered: (peer, id) => guard('isDelivered', () => inner.isDelivered(peer, id), false),
    markDelivered: (peer, id) => guard('markDelivered', () => inner.markDelivered(peer, id), undefined),
    forget: (peer, id) => guard('forget', () => inner.forget(peer, id), undefined),
  };
}
