import { paramError, type ParamError } from './param-error.ts';

/** One `keyword[=value]` from a MAIL or RCPT line, still encoded as sent. */
export interface RawParam {
  readonly keyword: string; // upper-cased: keywords are case-insensitive (RFC 5321 2.4)
  readonly value: string | null;
}

export interface AddressCommand {
  /** The path between the angle brackets, source route removed; "" for `<>`. */
  readonly path: string;
  readonly params: readonly RawParam[];
}

// RFC 5321 4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126)
// (plus UTF-8 under SMTPUTF8, RFC 6531 3.3).
const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const VALUE = /^[\x21-\x3c\x3e-\x7e\u0080-\uffff]*$/; // empty values are judged by each parameter's own grammar

/**
 * Splits `MAIL FROM:<path> params` or `RCPT TO:<path> params` without judging the parameters. Duplicates are
 * found here because they are a property of the line, not of any one parameter.
 */
export function parseAddressCommand(line: string, verb: 'MAIL FROM' | 'RCPT TO'): AddressCommand | ParamError {
  const prefix = line.slice(0, verb.length + 1).toUpperCase();
  if (prefix !== verb + ':') return paramError('command-syntax', `Syntax: ${verb}:<address> [parameters]`);
  const rest = line.slice(verb.length + 1).replace(/^ /, ''); // one space after the colon is a common lenience
  const close = rest.indexOf('>');
  if (!rest.startsWith('<') || close < 0) return paramError('address-syntax', 'Address must be enclosed in <>');
  let path = rest.slice(1, close);
  if (path.includes('<')) return paramError('address-syntax', 'Bad address syntax');
  path = path.replace(/^@[^:,]+(?:,@[^:,]+)*:/, ''); // RFC 5321 4.1.2: accept and ignore a source route
  const tail = rest.slice(close + 1);
  if (tail !== '' && !tail.startsWith(' ')) return paramError('command-syntax', 'Parameters must follow the address after a space');
  const params: RawParam[] = [];
  const seen = new Set<string>();
  for (const token of tail.split(' ').filter((t) => t !== '')) {
    const eq = token.indexOf('=');
    const keyword = (eq < 0 ? token : token.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? null : token.slice(eq + 1);
    if (!KEYWORD.test(keyword)) return paramError('param-syntax', `Bad parameter keyword "${printable(keyword)}"`);
    if (value !== null && !VALUE.test(value)) return paramError('param-syntax', `Bad value for ${keyword}`, keyword);
    if (seen.has(keyword)) return paramError('param-duplicate', `Duplicate ${keyword} parameter`, keyword);
    seen.add(keyword);
    params.push({ keyword, value });
  }
  return { path, params };
}

/** Keeps client text that is echoed in replies printable and short. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
