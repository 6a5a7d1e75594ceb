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
  /** Extension fields, e.g. X-Redirected-To for an ALTRECIP redirect (decisions.md). */
  readonly extra?: Readonly<Record<string, string>>;
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

const HUMAN: Record<DsnRecipient['action'], string> = {
  failed: 'could not be delivered to',
  delayed: 'has not yet been delivered to',
  delivered: 'was delivered to',
  relayed: 'was relayed, without further notification, for',
  expanded: 'was expanded for',
};

/**
 * A delivery status notification: multipart/report with a readable part, message/delivery-status and the
 * original (whole or headers). Sent with `MAIL FROM:<>` by the caller, never for a null sender (RFC 3461 6).
 */
export function buildDsn(d: DsnInput): Buffer {
  const failed = d.recipients.some((r) => r.action === 'failed');
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.reportingMta}>`,
    `To: <${d.to}>`,
    `Subject: ${failed ? 'Undelivered Mail Returned to Sender' : 'Delivery Status Notification'}`,
    `Date: ${rfc5322Date(d.date)}`,
    `Message-ID: <${d.messageId}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${d.boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${d.boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is the mail system at ${d.reportingMta}.`,
    '',
    ...d.recipients.map((r) => `Your message ${HUMAN[r.action]} <${r.finalRecipient}>${r.diagnostic ? `: ${oneLine(r.diagnostic)}` : ''}.`),
    '',
    `--${d.boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: ${d.reportingMtaType ?? 'dns'}; ${d.reportingMta}`,
    ...(d.envid !== undefined ? [`Original-Envelope-Id: ${d.envid}`] : []),
    `Arrival-Date: ${rfc5322Date(d.arrival)}`,
    ...(d.deliverBy ? [`Deliver-By-Date: ${rfc5322Date(d.deliverBy)}`] : []),
  ];
  for (const r of d.recipients) {
    lines.push('');
    if (r.originalRecipient) lines.push(`Original-Recipient: ${r.originalRecipient.type};${r.originalRecipient.address}`);
    lines.push(`Final-Recipient: rfc822;${r.finalRecipient}`, `Action: ${r.action}`, `Status: ${r.status}`);
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${r.remoteMta}`);
    if (r.diagnostic) lines.push(`Diagnostic-Code: smtp; ${r.diagnostic.replace(/\r?\n/g, '\r\n ')}`);
    if (r.lastAttempt) lines.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttempt)}`);
    if (r.willRetryUntil) lines.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    for (const [k, v] of Object.entries(r.extra ?? {})) lines.push(`${k}: ${v}`);
  }
  const original = Buffer.from(d.original.buffer, d.original.byteOffset, d.original.byteLength);
  const headerEnd = original.indexOf('\r\n\r\n');
  const full = d.returnFull && failed;
  lines.push('', `--${d.boundary}`, `Content-Type: ${full ? 'message/rfc822' : 'text/rfc822-headers'}`, '', '');
  const tail = Buffer.from(`\r\n--${d.boundary}--\r\n`, 'latin1');
  const part = full ? original : original.subarray(0, headerEnd < 0 ? original.length : headerEnd + 2);
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'utf8'), part, part.subarray(-2).toString() === '\r\n' ? Buffer.alloc(0) : Buffer.from('\r\n'), tail.subarray(2)]);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
