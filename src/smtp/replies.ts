import { storageFault } from '../core/index.ts';
import type { ParamError, ParamErrorCode } from '../mail/index.ts';

/** One SMTP reply: basic code, RFC 3463 enhanced code and text. */
export interface SmtpReply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

/** Why the front end refuses something, beyond parameter grammar. */
export type PolicyErrorCode =
  | 'relay-denied'
  | 'priority-too-low' // RFC 6710 4.1 congestion mode
  | 'too-big-for-priority' // RFC 6710 section 5
  | 'too-big' // RFC 1870
  | 'too-many-recipients'
  | 'loop' // RFC 5321 6.3
  | 'bare-line-ending' // RFC 5321 2.3.8: CR and LF only as CRLF
  | 'non-ascii-content' // 8-bit data without BODY=8BITMIME or SMTPUTF8
  | 'storage-failed' // the store failed otherwise (I/O error): nothing stored, try again
  | 'storage-full' // the disk is full or below queue.minFreeBytes (RFC 3463 4.3.1)
  | 'deadline-unmeetable' // an R-mode BY (or ABY) the radio link cannot meet with what is queued ahead (RFC 2852 section 4: 455)
  | 'memory-full' // DATA would pass limits.maxDataBytesInMemory
  | 'auth-encryption-required' // RFC 4954 section 6: AUTH before STARTTLS
  | 'auth-invalid' // RFC 4954 section 6
  | 'auth-rate-limited' // too many failed AUTHs from this client address
  | 'auth-unavailable' // RFC 4954 section 6: the check itself failed
  | 'too-many-connections'; // limits.maxConnections / maxConnectionsPerClient

export type RefusalCode = ParamErrorCode | PolicyErrorCode;

/**
 * The one table from refusal to reply. Codes follow the RFCs where they name one (RFC 5321 4.1.1.11 for 555,
 * RFC 6710 for 4.7.15 / 5.7.16, RFC 2852 section 3 for a BY below the minimum) and decisions.md elsewhere.
 */
const TABLE: Record<RefusalCode, { code: number; enhanced: string }> = {
  'command-syntax': { code: 501, enhanced: '5.5.2' },
  'address-syntax': { code: 501, enhanced: '5.1.3' },
  'address-non-ascii': { code: 553, enhanced: '5.6.7' },
  'param-syntax': { code: 501, enhanced: '5.5.4' },
  'priority-syntax': { code: 501, enhanced: '5.5.2' },
  'param-duplicate': { code: 501, enhanced: '5.5.4' },
  'param-conflict': { code: 501, enhanced: '5.5.4' },
  'param-unknown': { code: 555, enhanced: '5.5.4' },
  'by-below-minimum': { code: 555, enhanced: '5.5.4' },
  'relay-denied': { code: 550, enhanced: '5.7.1' },
  'priority-too-low': { code: 450, enhanced: '4.7.15' },
  'too-big-for-priority': { code: 552, enhanced: '5.7.16' },
  'too-big': { code: 552, enhanced: '5.3.4' },
  'too-many-recipients': { code: 452, enhanced: '4.5.3' },
  loop: { code: 554, enhanced: '5.4.6' },
  'bare-line-ending': { code: 550, enhanced: '5.6.0' },
  'non-ascii-content': { code: 554, enhanced: '5.6.1' },
  'storage-failed': { code: 451, enhanced: '4.3.0' },
  'storage-full': { code: 452, enhanced: '4.3.1' },
  'deadline-unmeetable': { code: 455, enhanced: '4.4.7' },
  'memory-full': { code: 452, enhanced: '4.3.1' },
  'auth-encryption-required': { code: 538, enhanced: '5.7.11' },
  'auth-invalid': { code: 535, enhanced: '5.7.8' },
  'auth-rate-limited': { code: 454, enhanced: '4.7.0' },
  'auth-unavailable': { code: 454, enhanced: '4.7.0' },
  'too-many-connections': { code: 421, enhanced: '4.7.0' },
};

export function refusal(code: RefusalCode, text: string, verb?: 'MAIL' | 'RCPT'): SmtpReply {
  const entry = TABLE[code];
  // RFC 6531 3.7.1: a non-ASCII reverse-path is refused with 550 at MAIL, a forward-path with 553 at RCPT.
  if (code === 'address-non-ascii' && verb === 'MAIL') return { code: 550, enhanced: '5.6.7', text };
  if (code === 'address-syntax' && verb === 'MAIL') return { code: 501, enhanced: '5.1.7', text };
  return { code: entry.code, enhanced: entry.enhanced, text };
}

export function paramRefusal(err: ParamError, verb: 'MAIL' | 'RCPT'): SmtpReply {
  // RFC 6710 4.1 rule 1 treats a repeated MT-PRIORITY like a bad one (digest 2.9: 501 5.5.2).
  const priority = err.error === 'param-duplicate' && (err.param === 'MT-PRIORITY' || err.param === 'PRIORITY');
  return refusal(priority ? 'priority-syntax' : err.error, err.detail, verb);
}

/**
 * The reply for a store that failed: a full disk (the queue's 'disk-full', or an ENOSPC/SQLITE_FULL underneath)
 * is 452 4.3.1, anything else 451 4.3.0; both tell the client to try again, nothing was stored.
 */
export function storageRefusal(err: unknown): SmtpReply {
  const code = (err as { code?: unknown } | null)?.code;
  const full = code === 'disk-full' || (code !== 'storage-io' && storageFault(err) === 'full');
  return full ? refusal('storage-full', 'Insufficient system storage; try again later') : refusal('storage-failed', 'Could not store the message; try again later');
}

/** A refusal as the Error that smtp-server's hook callbacks take. */
export class SmtpRefusal extends Error {
  readonly responseCode: number;
  constructor(readonly reply: SmtpReply) {
    super(`${reply.enhanced} ${reply.text}`);
    this.responseCode = reply.code;
  }
}

export function success(enhanced: string, text: string): string {
  return `${enhanced} ${text}`;
}
