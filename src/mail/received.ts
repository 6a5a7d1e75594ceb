/** What a Received: line (RFC 5321 4.4) says about one accepted transaction. */
export interface ReceivedInfo {
  readonly helo: string;
  readonly clientHostname?: string;
  readonly clientAddress: string;
  readonly by: string;
  /** ESMTP, with S for TLS and A for AUTH (RFC 3848); UTF8SMTP variants for SMTPUTF8 (RFC 6531 4.3). */
  readonly protocol: string;
  readonly id: string;
  /** Named only when the message has one recipient, so the line does not disclose a list. */
  readonly recipients: readonly string[];
  /** Determined MT-PRIORITY value: the RFC 6710 PRIORITY clause. */
  readonly priority: number;
  readonly date: Date;
}

export function withProtocol(opts: { esmtp: boolean; tls: boolean; auth: boolean; utf8: boolean }): string {
  if (!opts.esmtp) return 'SMTP';
  return (opts.utf8 ? 'UTF8SMTP' : 'ESMTP') + (opts.tls ? 'S' : '') + (opts.auth ? 'A' : '');
}

/** The Received: field with CRLF, folded before each clause so no line passes 78 characters. */
export function receivedField(info: ReceivedInfo): string {
  const literal = info.clientAddress.includes(':') ? `IPv6:${info.clientAddress}` : info.clientAddress;
  // Folding is allowed between any two of these tokens (RFC 5321 4.4 allows FWS in the TCP-info comment).
  const clauses = [`from ${info.helo}`];
  if (info.clientHostname) clauses.push(`(${info.clientHostname}`, `[${literal}])`);
  else clauses.push(`([${literal}])`);
  clauses.push(`by ${info.by}`, `with ${info.protocol}`, `id ${info.id}`);
  if (info.recipients.length === 1) clauses.push(`for <${info.recipients[0]}>`);
  clauses.push(`PRIORITY ${info.priority};`);
  let out = 'Received:';
  let line = out.length;
  for (const clause of [...clauses, rfc5322Date(info.date)]) {
    if (line + 1 + clause.length > 78 && line > 10) {
      out += '\r\n       ';
      line = 7;
    }
    out += ' ' + clause;
    line += 1 + clause.length;
  }
  return out + '\r\n';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 3.3 date-time in UTC with a numeric zone, as RFC 5321 asks for trace fields. */
export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

const OWN_RECEIVED =
  /^Received: from (\S+) (?:\((\S+) \[(?:IPv6:)?([^\]\s]+)\]\)|\(\[(?:IPv6:)?([^\]\s]+)\]\)) by (\S+) with (\S+) id (\S+)(?: for <([^>\s]*)>)? PRIORITY (-?\d+); ([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}) \+0000\r\n$/;

/**
 * The fields of a Received: field this gateway wrote (receivedField), when `field` (with its CRLF) is exactly
 * what receivedField makes of them, so that a peer can make it again byte for byte; undefined for any other.
 */
export function ownReceivedInfo(field: string): ReceivedInfo | undefined {
  const m = OWN_RECEIVED.exec(field.replace(/\r\n {7}/g, ''));
  if (!m) return undefined;
  const date = new Date(`${m[10]} GMT`);
  if (Number.isNaN(date.getTime())) return undefined;
  const info: ReceivedInfo = {
    helo: m[1]!,
    ...(m[2] !== undefined ? { clientHostname: m[2] } : {}),
    clientAddress: m[3] ?? m[4]!,
    by: m[5]!,
    protocol: m[6]!,
    id: m[7]!,
    recipients: m[8] !== undefined ? [m[8]] : [],
    priority: Number(m[9]),
    date,
  };
  return receivedField(info) === field ? info : undefined;
}

/** The first header field of a message (its bytes with the CRLF, folded lines included) and the rest. */
export function firstField(content: Uint8Array): { field: Uint8Array; rest: Uint8Array } | undefined {
  const head = Buffer.from(content.buffer, content.byteOffset, Math.min(content.length, 2048)).toString('latin1');
  const end = /\r\n(?![ \t])/.exec(head);
  if (!end) return undefined;
  const n = end.index + 2; // latin1: one character per byte
  return { field: content.subarray(0, n), rest: content.subarray(n) };
}
