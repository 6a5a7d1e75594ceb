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
