import { buildDsn, decodeXtext, encodeXtext, headerEnd, headerFields, isParamError, mtPriorityHeaderValues, parseMailCommand, parseRcptCommand, replaceMtPriority, type AdvertisedExtensions, type DsnRecipient, type RcptCommand } from '../../src/mail/index.ts';
import type { Rng } from './rng.ts';
import { fail, sameBytes, type DecoderTarget } from './target.ts';

const EXT: AdvertisedExtensions = { size: 10_485_760, eightBitMime: true, smtpUtf8: true, dsn: true, deliverByMin: 60, mtPriority: 'MIXER', draftPriority: true, altRecip: true, auth: true };
const NOW = 1_800_000_000_000;

/** Fields the status part of a DSN may hold (RFC 3464 2.2, 2.3, RFC 2852, and ours); anything else was injected. */
const STATUS_FIELDS = new Set(['reporting-mta', 'original-envelope-id', 'arrival-date', 'deliver-by-date', 'original-recipient', 'final-recipient', 'action', 'status', 'remote-mta', 'diagnostic-code', 'last-attempt-date', 'will-retry-until', 'x-redirected-to', 'content-type', 'content-transfer-encoding']);

interface MailInput {
  readonly mail: string;
  readonly rcpts: readonly string[];
  readonly diagnostic: string;
  readonly original: Uint8Array;
  readonly xtext: string;
  readonly priority: number;
}

const NASTY = ['\r', '\n', '\r\n', '\0', ' ', '+', '=', ';', ',', '<', '>', '"', '\\', ':', '(', ')', 'é', '\u00ff', '\ud800', '+0D+0A', '+00', '+2B', '+3D', '+0d', 'X-Evil: 1', '\r\nX-Evil: 1'];

function piece(rng: Rng, max = 40): string {
  let s = '';
  for (let i = rng.size(max); i > 0; i--) s += rng.chance(0.8) ? String.fromCharCode(0x21 + rng.int(94)) : rng.pick(NASTY);
  return s;
}

function address(rng: Rng): string {
  if (rng.chance(0.1)) return piece(rng);
  return `${rng.pick(['ops', 'jörg', 'a.b', '"q u"', piece(rng, 8)])}@${rng.pick(['base.example', 'bücher.example', '[192.0.2.1]', piece(rng, 8)])}`;
}

function param(rng: Rng, kind: 'mail' | 'rcpt'): string {
  const xtextish = () => (rng.chance(0.5) ? encodeXtext(piece(rng)) : piece(rng));
  const mail = [
    () => `SIZE=${rng.pick(['0', '100', '99999999999', '-1', piece(rng, 5)])}`,
    () => `BODY=${rng.pick(['7BIT', '8BITMIME', 'BINARYMIME', piece(rng, 5)])}`,
    () => 'SMTPUTF8',
    () => `RET=${rng.pick(['FULL', 'HDRS', piece(rng, 4)])}`,
    () => `ENVID=${xtextish()}`,
    () => `BY=${rng.pick([String(rng.range(-100, 100000)), piece(rng, 6)])};${rng.pick(['R', 'N', 'RT', 'NT', piece(rng, 2)])}`,
    () => `MT-PRIORITY=${rng.pick([String(rng.range(-12, 12)), '+3', piece(rng, 3)])}`,
    () => `PRIORITY=${rng.pick([String(rng.range(-120, 120)), piece(rng, 3)])}`,
    () => `ABY=${rng.range(-10, 10000)};${rng.pick(['R', 'N'])}`,
    () => `AUTH=${rng.pick(['<>', xtextish()])}`,
  ];
  const rcpt = [
    () => `NOTIFY=${rng.pick(['NEVER', 'SUCCESS', 'SUCCESS,FAILURE,DELAY', 'success,delay', 'NEVER,SUCCESS', piece(rng, 10)])}`,
    () => `ORCPT=${rng.pick(['rfc822', 'utf-8', 'UTF-8', piece(rng, 6)])};${rng.chance(0.5) ? encodeXtext(address(rng)) : xtextish()}`,
    () => `ARCPT=${rng.pick(['rfc822', piece(rng, 6)])};${rng.chance(0.5) ? encodeXtext(address(rng)) : xtextish()}`,
  ];
  if (rng.chance(0.05)) return piece(rng);
  return rng.pick(kind === 'mail' ? mail : rcpt)();
}

function header(rng: Rng): Uint8Array {
  const lines: string[] = [];
  for (let i = rng.size(12); i > 0; i--) {
    lines.push(
      rng.pick([
        () => `MT-Priority: ${rng.pick([String(rng.range(-12, 12)), `(c) ${rng.range(-9, 9)} (x (y))`, '(', ')', piece(rng, 6)])}`,
        () => `Received: from ${piece(rng, 10)}`,
        () => ` ${piece(rng)}`,
        () => `\t${piece(rng)}`,
        () => `${piece(rng, 10)}: ${piece(rng)}`,
        () => piece(rng),
        () => 'mt-priority :  4',
      ])(),
    );
  }
  const sep = rng.pick(['\r\n\r\n', '\r\n', '\n\n', '']);
  return Buffer.from(lines.join('\r\n') + sep + piece(rng, 200), rng.chance(0.5) ? 'utf8' : 'latin1');
}

/**
 * The mail layer's parsers on hostile input: MAIL and RCPT lines with every parameter (xtext, ORCPT, NOTIFY, BY,
 * MT-PRIORITY, ...), header fields (folding, comments, MT-Priority), xtext; and the DSN built from what they
 * accepted: it never throws, and its status part holds only its own fields (no header injected through ORCPT,
 * ENVID, an address or a remote reply).
 */
export const dsnTarget: DecoderTarget<MailInput> = {
  name: 'dsn',
  description: 'MAIL/RCPT parameters, header fields, xtext, and DSNs built from what they accept',
  generate(rng: Rng): MailInput {
    const params = (k: 'mail' | 'rcpt') => Array.from({ length: rng.size(5) }, () => param(rng, k)).join(' ');
    const mail = rng.chance(0.05) ? piece(rng, 80) : `MAIL FROM:<${rng.chance(0.1) ? '' : address(rng)}> ${params('mail')}`;
    const rcpts = Array.from({ length: 1 + rng.int(4) }, () => (rng.chance(0.05) ? piece(rng, 80) : `RCPT TO:<${address(rng)}> ${params('rcpt')}`));
    return { mail, rcpts, diagnostic: `${rng.range(400, 599)} ${piece(rng, 60)}`, original: header(rng), xtext: piece(rng, 30), priority: rng.range(-9, 9) };
  },
  check(i: MailInput): void {
    // xtext: what it encodes decodes back (as bytes: decodeXtext gives latin1).
    const x = decodeXtext(encodeXtext(i.xtext));
    if (x !== Buffer.from(i.xtext, 'utf8').toString('latin1')) fail('xtext does not round-trip');
    decodeXtext(i.xtext);
    // Header fields.
    const fields = headerFields(i.original);
    for (const [name, value] of fields) if (name.includes(':') || (name + value).includes('\r\n')) fail(`a header field ${JSON.stringify([name, value])}`);
    for (const v of mtPriorityHeaderValues(fields)) if (v !== null && (v < -9 || v > 9 || !Number.isInteger(v))) fail(`MT-Priority value ${v}`);
    const replaced = replaceMtPriority(i.original, i.priority);
    const end = headerEnd(i.original);
    if (!sameBytes(replaced.subarray(replaced.length - (i.original.length - end)), i.original.subarray(end))) fail('replaceMtPriority changed the body');
    // MAIL and RCPT, and the DSN made from what they accepted.
    const mail = parseMailCommand(i.mail, EXT, NOW);
    const rcpts = i.rcpts.map((r) => parseRcptCommand(r, EXT, !isParamError(mail) && mail.params.smtputf8));
    if (isParamError(mail)) return;
    const ok = rcpts.filter((r): r is RcptCommand => !isParamError(r));
    if (!ok.length || mail.sender === '') return;
    const recipients: DsnRecipient[] = ok.map((r, n) => ({
      finalRecipient: r.recipient,
      ...(r.orcpt ? { originalRecipient: r.orcpt } : {}),
      action: (['failed', 'delayed', 'delivered', 'relayed'] as const)[n % 4]!,
      status: '5.1.1',
      remoteMta: 'mx.example',
      diagnostic: i.diagnostic,
      lastAttempt: new Date(NOW),
      ...(r.arcpt ? { redirectedTo: r.arcpt.address } : {}),
    }));
    const dsn = buildDsn({ reportingMta: 'bravo.example', ...(mail.params.envid !== undefined ? { envid: mail.params.envid } : {}), arrival: new Date(NOW), recipients, original: i.original, returnFull: true, to: mail.sender, date: new Date(NOW), messageId: 'x@bravo.example', boundary: 'B0UND/bravo' });
    const text = dsn.toString('utf8');
    const parts = text.split('\r\n--B0UND/bravo');
    if (parts.length < 4) fail(`the DSN has ${parts.length - 1} boundaries before its end`);
    for (const line of parts[2]!.split('\r\n').slice(1)) {
      if (line === '' || line.startsWith(' ') || line.startsWith('\t')) continue;
      const name = /^([A-Za-z0-9-]+):/.exec(line)?.[1]?.toLowerCase();
      if (!name || !STATUS_FIELDS.has(name)) fail(`the DSN's status part has a line it did not write: ${JSON.stringify(line)}`);
    }
    if (/[^\r]\n|\r[^\n]/.test(parts.slice(0, 3).join(''))) fail('a bare CR or LF in the DSN before the returned message');
  },
  show: (i) => JSON.stringify({ ...i, original: Buffer.from(i.original).toString('latin1') }, null, 1),
};
