// A message as the gateway stores and sends it: what a client submitted, with the front end's Received line in
// front, the envelope from MAIL FROM / RCPT TO, made into a bundle by the gateway's own linkBundle.
import type { BundleContext } from '../src/codec/index.ts';
import type { QueuedMessage } from '../src/core/index.ts';
import { linkBundle } from '../src/gateway/link-bundle.ts';
import { receivedField, withProtocol } from '../src/mail/index.ts';

export interface Submission {
  readonly id: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly eml: Uint8Array;
  /** When it was accepted, ms since the epoch. */
  readonly at: number;
}

/** The envelope a client would give for this message: From and To/Cc of its header (placeholders when absent). */
export function envelopeOf(eml: Uint8Array): { sender: string; recipients: string[] } {
  const text = Buffer.from(eml).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const field = (name: string) => head.split(/\r?\n/).filter((l) => l.toLowerCase().startsWith(name + ':')).map((l) => l.slice(name.length + 1));
  const addrs = (values: string[]) => values.flatMap((v) => v.match(/[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+[A-Za-z0-9]/g) ?? []);
  const sender = addrs(field('return-path'))[0] ?? addrs(field('from'))[0] ?? 'sender@example.org';
  const recipients = [...new Set(addrs([...field('to'), ...field('cc')]))].slice(0, 20);
  return { sender, recipients: recipients.length ? recipients : ['recipient@example.org'] };
}

/** The stored message: Received line + what the client sent, as the SMTP front end makes it. */
export function queuedMessage(s: Submission): QueuedMessage {
  const trace = receivedField({
    helo: 'client.example.org',
    clientHostname: 'localhost',
    clientAddress: '127.0.0.1',
    by: 'alpha.field.example',
    protocol: withProtocol({ esmtp: true, tls: false, auth: false, utf8: false }),
    id: s.id,
    recipients: s.recipients,
    priority: 0,
    date: new Date(s.at),
  });
  return {
    id: s.id,
    receivedAt: s.at,
    sender: s.sender,
    params: { smtputf8: false, size: s.eml.length, body: '8BITMIME' },
    priority: { value: 0, source: 'policy' },
    recipients: s.recipients.map((address) => ({ address, notify: null, route: { kind: 'link', target: 'bravo' }, state: 'queued' })),
    submitter: { clientAddress: '127.0.0.1', clientHostname: 'localhost', helo: 'client.example.org', trusted: true },
    content: Buffer.concat([Buffer.from(trace, 'latin1'), s.eml]),
  };
}

/** The bundle the gateway sends for `s`, compressed with `dictionary` (the best both stations hold). */
export function gatewayBundle(s: Submission, dictionary: number, context?: BundleContext): Uint8Array {
  return linkBundle(queuedMessage(s), s.at, dictionary, context);
}
