/**
 * Mailbox syntax (RFC 5321 4.1.2, with RFC 6531 UTF-8 when SMTPUTF8 was given) and its size limits (4.5.3.1).
 */

// atext of RFC 5322 3.2.3, plus any non-ASCII character (RFC 6531 3.3 extends atext with UTF8-non-ascii).
const ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+$/;
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\uffff]|\\[\x20-\x7e])*"$/;
const LABEL = /^(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]{0,61}[A-Za-z0-9\u0080-\uffff])?)$/;

export const MAX_LOCAL_PART = 64;
export const MAX_DOMAIN = 255;
export const MAX_PATH = 254; // 256 octets including the angle brackets

export function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/** RFC 3461 4.2 and 4.4: ORCPT and ENVID values decode to printable US-ASCII. */
export function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** True when `text` is `local-part@domain` as RFC 5321 allows it in a path. */
export function isMailbox(text: string): boolean {
  if (Buffer.byteLength(text) > MAX_PATH) return false;
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (Buffer.byteLength(local) > MAX_LOCAL_PART || Buffer.byteLength(domain) > MAX_DOMAIN) return false;
  const localOk = QUOTED.test(local) || local.split('.').every((part) => ATOM.test(part));
  return localOk && isDomain(domain);
}

function isDomain(domain: string): boolean {
  if (domain.startsWith('[') && domain.endsWith(']')) return isAddressLiteral(domain.slice(1, -1));
  return domain.split('.').every((label) => LABEL.test(label));
}

function isAddressLiteral(inner: string): boolean {
  if (/^IPv6:/i.test(inner)) return /^[0-9A-Fa-f:.]+$/.test(inner.slice(5));
  const parts = inner.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The domain of a mailbox, lower-cased for routing. */
export function domainOf(mailbox: string): string {
  return mailbox.slice(mailbox.lastIndexOf('@') + 1).toLowerCase();
}
