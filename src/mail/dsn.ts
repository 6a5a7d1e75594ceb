import { isAscii } from './address.ts';
import { rfc5322Date } from './received.ts';

/** One recipient's block of a delivery status notification (RFC 3464 2.3). */
export interface DsnRecipient {
  readonly finalRecipient: string;
  /** ORCPT as given (type and decoded address), present only when ORCPT was. */
  readonly originalRecipient?: { type: string; address: string };
  readonly action: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';
  readonly status: string;
  readonly remoteMta?: string;
  /** The remote reply, verbatim, when the outcome came from an SMTP peer. */
  readonly diagnostic?: string;
  readonly lastAttempt?: Date;
  readonly willRetryUntil?: Date;
  /** Extension fields (name: value as written). */
  readonly extra?: Readonly<Record<string, string>>;
  /** ALTRECIP (decisions.md): the alternate this recipient was redirected to; `X-Redirected-To:` and a line in the text name it. */
  readonly redirectedTo?: string;
  /**
   * For "relayed": the next hop was given NOTIFY (it has DSN), so further notifications may come from there
   * (RFC 3461 5.2.2, RFC 2852 4.1.4.2). Absent or false: it could not be asked, none will come.
   */
  readonly nextHopNotifies?: boolean;
}

export interface DsnInput {
  readonly reportingMta: string;
  /** Type of the Reporting-MTA name: "dns" only for a real DNS name (RFC 3464 2.2.2). */
  readonly reportingMtaType?: string;
  readonly envid?: string;
  readonly arrival: Date;
  readonly deliverBy?: Date;
  readonly recipients: readonly DsnRecipient[];
  /** The original message: all of it for RET=FULL failures, else its header. */
  readonly original: Uint8Array;
  readonly returnFull: boolean;
  readonly to: string;
  readonly date: Date;
  readonly messageId: string;
  readonly boundary: string;
}

/**
 * Whether the report must be a UTF-8 DSN (RFC 6533): the address it goes to, or any address, diagnostic or
 * extension field in it, is not ASCII. Such a DSN is sent with SMTPUTF8.
 */
export function isGlobalDsn(d: Pick<DsnInput, 'to' | 'recipients'>): boolean {
  if (!isAscii(d.to)) return true;
  return d.recipients.some(
    (r) =>
      !isAscii(r.finalRecipient) ||
      (r.originalRecipient !== undefined && !isAscii(plainAddress(r.originalRecipient))) ||
      (r.redirectedTo !== undefined && !isAscii(r.redirectedTo)) ||
      (r.diagnostic !== undefined && !isAscii(r.diagnostic)) ||
      Object.values(r.extra ?? {}).some((v) => !isAscii(v)),
  );
}

/**
 * A delivery status notification: multipart/report with a readable part, the status part and the original
 * (whole or headers). Sent with `MAIL FROM:<>` by the caller, never for a null sender (RFC 3461 6). With a
 * UTF-8 address anywhere it follows RFC 6533: message/global-delivery-status, `utf-8;` address types, and the
 * original's UTF-8 header returned as message/global-headers (message/global when returned whole).
 */
export function buildDsn(d: DsnInput): Buffer {
  const failed = d.recipients.some((r) => r.action === 'failed');
  const global = isGlobalDsn(d);
  const original = Buffer.from(d.original.buffer, d.original.byteOffset, d.original.byteLength);
  const headerEnd = original.indexOf('\r\n\r\n');
  const full = d.returnFull && failed;
  const part = full ? original : original.subarray(0, headerEnd < 0 ? original.length : headerEnd + 2);
  const utf8Header = part.subarray(0, headerEnd < 0 ? part.length : headerEnd + 2).some((b) => b > 127);
  const returnedType = full ? (utf8Header ? 'message/global' : 'message/rfc822') : utf8Header ? 'message/global-headers' : 'text/rfc822-headers';
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.reportingMta}>`,
    `To: <${d.to}>`,
    `Subject: ${failed ? 'Undelivered Mail Returned to Sender' : 'Delivery Status Notification'}`,
    `Date: ${rfc5322Date(d.date)}`,
    `Message-ID: <${d.messageId}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=${global ? 'global-delivery-status' : 'delivery-status'}; boundary="${d.boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${d.boundary}`,
    ...(global ? ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'] : ['Content-Type: text/plain; charset=us-ascii']),
    '',
    `This is the mail system at ${d.reportingMta}.`,
    '',
    ...d.recipients.map(human),
    '',
    `--${d.boundary}`,
    ...(global ? ['Content-Type: message/global-delivery-status', 'Content-Transfer-Encoding: 8bit'] : ['Content-Type: message/delivery-status']),
    '',
    `Reporting-MTA: ${d.reportingMtaType ?? 'dns'}; ${d.reportingMta}`,
    ...(d.envid !== undefined ? [`Original-Envelope-Id: ${d.envid}`] : []),
    `Arrival-Date: ${rfc5322Date(d.arrival)}`,
    ...(d.deliverBy ? [`Deliver-By-Date: ${rfc5322Date(d.deliverBy)}`] : []),
  ];
  for (const r of d.recipients) {
    lines.push('');
    if (r.originalRecipient) lines.push(`Original-Recipient: ${typedAddress(r.originalRecipient.type, r.originalRecipient.address, global)}`);
    lines.push(`Final-Recipient: ${typedAddress('rfc822', r.finalRecipient, global)}`, `Action: ${r.action}`, `Status: ${r.status}`);
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${r.remoteMta}`);
    // Every line break of a remote reply (CRLF, or a bare CR or LF from a hostile hop) becomes a fold: never a new field.
    if (r.diagnostic) lines.push(`Diagnostic-Code: smtp; ${r.diagnostic.replace(/\r\n|\r|\n/g, '\r\n ')}`);
    if (r.lastAttempt) lines.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttempt)}`);
    if (r.willRetryUntil) lines.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    const extra = { ...(r.redirectedTo !== undefined ? { 'X-Redirected-To': typedAddress('rfc822', r.redirectedTo, global) } : {}), ...r.extra };
    for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  }
  lines.push('', `--${d.boundary}`, `Content-Type: ${returnedType}`, ...(utf8Header ? ['Content-Transfer-Encoding: 8bit'] : []), '', '');
  const tail = Buffer.from(`\r\n--${d.boundary}--\r\n`, 'latin1');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'utf8'), part, part.subarray(-2).toString() === '\r\n' ? Buffer.alloc(0) : Buffer.from('\r\n'), tail.subarray(2)]);
}

/** The readable line for one recipient: what happened, to which address, and where a redirect went. */
function human(r: DsnRecipient): string {
  const who = `<${r.finalRecipient}>`;
  const why = r.diagnostic ? `: ${oneLine(r.diagnostic)}` : '';
  const alternate = r.redirectedTo ?? redirectedFromExtra(r.extra);
  switch (r.action) {
    case 'failed':
      return `Your message could not be delivered to ${who}${why}.`;
    case 'delayed':
      return `Your message has not yet been delivered to ${who}${why}.`;
    case 'delivered':
      return `Your message was delivered to ${who}${why}.`;
    case 'expanded':
      return `Your message was expanded for ${who}${why}.`;
    case 'relayed':
      if (alternate !== undefined) return `Your message could not be delivered to ${who}${why}; it was redirected to the alternate recipient <${alternate}>, and any further notifications will be about <${alternate}>.`;
      // RFC 3464 2.3.3: "relayed" says only that this MTA will not report further; a hop that took NOTIFY may.
      if (r.nextHopNotifies) return `Your message was relayed for ${who}${r.remoteMta ? ` to ${r.remoteMta}` : ''}${why}; the next system was passed your notification request (NOTIFY), so further notifications may come from there.`;
      return `Your message was relayed, without further notification, for ${who}${why}.`;
  }
}

function redirectedFromExtra(extra: DsnRecipient['extra']): string | undefined {
  const v = extra?.['X-Redirected-To'];
  if (v === undefined) return undefined;
  const semi = v.indexOf(';');
  return semi < 0 ? v.trim() : v.slice(semi + 1).trim();
}

/**
 * `addr-type;address` for Original-Recipient, Final-Recipient and X-Redirected-To. In a UTF-8 DSN (RFC 6533 4.1)
 * a non-ASCII address is `utf-8;` in its utf-8-address form (a `utf-8` ORCPT given in unitext or xtext form is
 * up-converted); otherwise the type and address are written as given.
 */
function typedAddress(type: string, address: string, global: boolean): string {
  if (!global) return `${type};${address}`;
  const plain = plainAddress({ type, address });
  return isAscii(plain) && type.toLowerCase() !== 'utf-8' ? `${type};${address}` : `utf-8;${plain}`;
}

/** An address without the \x{HEX} escapes of a `utf-8` address type (RFC 6533 3); other types as they are. */
function plainAddress(a: { type: string; address: string }): string {
  if (a.type.toLowerCase() !== 'utf-8') return a.address;
  return a.address.replace(/\\x\{([0-9A-Fa-f]{2,6})\}/g, (all, hex: string) => {
    const cp = parseInt(hex, 16);
    return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : all;
  });
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
