// A model of what Winlink's B2F costs for the same mail, for the on-air benchmark. The message is converted as a
// Winlink client converts it (mailparser decodes the MIME): B2F header lines (Mid, Date, Type, From, To, Cc,
// Subject, Mbo, Body, File), a blank line, the body as text (the text/plain part, or the text of an HTML-only
// message; other alternatives are dropped), then each attachment's decoded bytes, each after a CRLF. That is
// compressed with LZHUF (B2 framing: CRC16 and length) and sent with B2F's session framing:
//
//   per message   proposal `FC EM <mid> <size> <compressed> 0\r`; in the data phase SOH, length, the title
//                 (subject, at most 80 bytes), NUL, offset "0", NUL; the compressed bytes in blocks of at most
//                 250, each behind STX and a length byte; EOT and a checksum byte
//   per 5 messages  the proposals' checksum line `F> XX\r` and the answer `FS ` + one `+` per proposal + `\r`
//   per session   both stations' SIDs, the login lines (;FW, ;PQ/;PR challenge and response, the caller's
//                 comment line, the CMS prompt), `FF\r` when the caller has no more, `FQ\r` to close
//
// Bytes of the B2F stream only: the modem's own framing and ARQ (PACTOR, VARA) are not counted, which favours
// B2F against hfmail, whose KISS framing, frame checks and acknowledgements are all counted.
import { simpleParser, type AddressObject } from 'mailparser';
import { lzhufCompressB2 } from './lzhuf.ts';

/** Bytes of a B2F session around its messages: SIDs, login and challenge lines, FF and FQ. */
export const B2F_SESSION_BYTES = {
  // "[WL2K-5.0-B2FWIHJM$]\r" ";PQ: 12345678\r" "CMS>\r"
  answererOpen: 21 + 14 + 5,
  // "[RMS Express-1.7.14.0-B2FHM$]\r" ";FW: N0CALL\r" ";PR: 12345678\r" "; WL2K DE N0CALL (FN42)\r"
  callerOpen: 30 + 12 + 14 + 24,
  // "FF\r" "FQ\r"
  close: 3 + 3,
} as const;

const PROPOSALS_PER_BLOCK = 5;
const DATA_BLOCK = 250;

export interface B2fMessage {
  /** The converted message (header, body, attachments) before compression. */
  readonly converted: Uint8Array;
  /** LZHUF with B2 framing of `converted`. */
  readonly compressed: number;
  /** Bytes of this message's own framing: its proposal, its data header, block headers and end. */
  readonly framing: number;
}

const MID = 'ABCDEFGHIJKL';

function b2fDate(d: Date | undefined): string {
  const t = d && !Number.isNaN(d.getTime()) ? d : new Date(0);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}`;
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  return list.flatMap((o) => o.value.flatMap((v) => (v.address ? [`SMTP:${v.address}`] : (v.group ?? []).flatMap((g) => (g.address ? [`SMTP:${g.address}`] : [])))));
}

/** Converts one RFC 5322 message to B2F and prices it. */
export async function b2fMessage(eml: Uint8Array): Promise<B2fMessage> {
  const m = await simpleParser(Buffer.from(eml), { skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true });
  const body = Buffer.from((m.text ?? '').replace(/\r?\n/g, '\r\n'), 'utf8');
  const files = m.attachments.map((a) => ({ name: (a.filename ?? 'attachment').replace(/[\r\n]/g, ' ').slice(0, 255), data: a.content }));
  const from = addresses(m.from)[0] ?? 'SMTP:unknown@example.org';
  const subject = (m.subject ?? '').replace(/[\r\n]+/g, ' ').slice(0, 128);
  const lines = [
    `Mid: ${MID}`,
    `Date: ${b2fDate(m.date)}`,
    'Type: Private',
    `From: ${from}`,
    ...addresses(m.to).map((a) => `To: ${a}`),
    ...addresses(m.cc).map((a) => `Cc: ${a}`),
    `Subject: ${subject}`,
    'Mbo: SMTP',
    `Body: ${body.length}`,
    ...files.map((f) => `File: ${f.data.length} ${f.name}`),
  ];
  const parts: Buffer[] = [Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), body];
  for (const f of files) parts.push(Buffer.from('\r\n'), f.data);
  const converted = Buffer.concat(parts);
  const compressed = lzhufCompressB2(converted).length;
  const title = Math.min(80, Buffer.byteLength(subject || '(no subject)'));
  const proposal = `FC EM ${MID} ${converted.length} ${compressed} 0\r`.length;
  const header = 2 + title + 1 + 1 + 1;
  const blocks = Math.ceil(compressed / DATA_BLOCK) * 2;
  return { converted, compressed, framing: proposal + header + blocks + 2 };
}

/** B2F's bytes for a session carrying these messages in order: their own, the proposal blocks', the session's. */
export function b2fSessionBytes(messages: readonly B2fMessage[]): number {
  let total = B2F_SESSION_BYTES.answererOpen + B2F_SESSION_BYTES.callerOpen + B2F_SESSION_BYTES.close;
  for (let i = 0; i < messages.length; i += PROPOSALS_PER_BLOCK) {
    const n = Math.min(PROPOSALS_PER_BLOCK, messages.length - i);
    total += 'F> XX\r'.length + ('FS '.length + n + 1);
  }
  for (const m of messages) total += m.compressed + m.framing;
  return total;
}

/** One message's share of a long session: its own bytes and a fifth of a proposal block's. */
export function b2fInSessionBytes(m: B2fMessage): number {
  return m.compressed + m.framing + ('F> XX\r'.length + 'FS \r'.length) / PROPOSALS_PER_BLOCK + 1;
}

/** One message alone in a session of its own. */
export function b2fAloneBytes(m: B2fMessage): number {
  return b2fSessionBytes([m]);
}

/**
 * The SMTP dialogue that submits `eml` (one connection, ESMTP with PIPELINING off, as a plain client talks):
 * greeting, EHLO and its reply, MAIL, RCPT per recipient, DATA, the dot-stuffed content and its end, QUIT; both
 * directions counted.
 */
export function smtpDialogueBytes(eml: Uint8Array, sender: string, recipients: readonly string[]): number {
  const server = [
    '220 mail.example.org ESMTP ready',
    '250-mail.example.org Hello client.example.org',
    '250-PIPELINING',
    '250-8BITMIME',
    '250-SIZE 10485760',
    '250 ENHANCEDSTATUSCODES',
    '250 2.1.0 Ok',
    ...recipients.map(() => '250 2.1.5 Ok'),
    '354 End data with <CR><LF>.<CR><LF>',
    '250 2.0.0 Ok: queued as 4F2A1C0B3D',
    '221 2.0.0 Bye',
  ];
  const client = ['EHLO client.example.org', `MAIL FROM:<${sender}> SIZE=${eml.length}`, ...recipients.map((r) => `RCPT TO:<${r}>`), 'DATA', '.', 'QUIT'];
  const text = Buffer.from(eml).toString('latin1');
  const stuffed = (text.endsWith('\r\n') ? text : text + '\r\n').replace(/^\./gm, '..');
  return [...server, ...client].reduce((a, l) => a + l.length + 2, 0) + Buffer.byteLength(stuffed, 'latin1');
}
