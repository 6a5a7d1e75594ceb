import { bundleFromMessage, encodeBundle, isZstdDictionary, type Bundle, type BundleContext } from '../codec/index.ts';
import type { QueuedMessage } from '../core/index.ts';
import { firstField, ownReceivedInfo, receivedField, type ReceivedInfo } from '../mail/index.ts';

/**
 * The bundle this gateway sends for `message`: for a peer that reads format 4 (a zstd dictionary), without the
 * Received line our front end put on top, which the peer writes again from a few fields (docs/protocol.md,
 * "Bundles"), and compressed against the session's history when the link offers one.
 */
export function linkBundle(message: QueuedMessage, now: number, dictionary: number, context?: BundleContext): Uint8Array {
  const b = bundleFromMessage(message, now);
  return encodeBundle(isZstdDictionary(dictionary) ? withoutOwnTrace(b) : b, dictionary, context);
}

/** `b` with its first field taken off when that is our own Received line for it and can be made again exactly. */
export function withoutOwnTrace(b: Bundle): Bundle {
  const first = firstField(b.content);
  const info = first && ownReceivedInfo(Buffer.from(first.field).toString('utf8'));
  if (!first || !info || info.id !== b.id || !Buffer.from(traceLine(info)).equals(Buffer.from(first.field))) return b;
  return {
    ...b,
    content: first.rest,
    trace: {
      by: info.by,
      protocol: info.protocol,
      helo: info.helo,
      clientAddress: info.clientAddress,
      ...(info.clientHostname !== undefined ? { clientHostname: info.clientHostname } : {}),
      ...(info.recipients.length === 1 ? { forRecipient: info.recipients[0]! } : {}),
      priority: info.priority,
      date: info.date.getTime(),
    },
  };
}

/** The content as the sending gateway stored it: its Received line, when the bundle left it out, on top again. */
export function contentOf(b: Bundle): Uint8Array {
  const t = b.trace;
  if (!t) return b.content;
  const info: ReceivedInfo = {
    helo: t.helo,
    ...(t.clientHostname !== undefined ? { clientHostname: t.clientHostname } : {}),
    clientAddress: t.clientAddress,
    by: t.by,
    protocol: t.protocol,
    id: b.id,
    recipients: t.forRecipient !== undefined ? [t.forRecipient] : [],
    priority: t.priority,
    date: new Date(t.date),
  };
  return Buffer.concat([traceLine(info), b.content]);
}

function traceLine(info: ReceivedInfo): Buffer {
  return Buffer.from(receivedField(info), 'utf8');
}
