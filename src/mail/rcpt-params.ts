import type { Notify, NotifyCondition, TypedAddress } from '../core/index.ts';
import { isAscii, isMailbox, isPrintableAscii } from './address.ts';
import { printable, type RawParam } from './command-line.ts';
import type { AdvertisedExtensions } from './extensions.ts';
import { paramError, type ParamError } from './param-error.ts';
import { decodeXtext } from './xtext.ts';

export interface ParsedRcpt {
  readonly notify: Notify;
  readonly orcpt?: TypedAddress;
  readonly arcpt?: TypedAddress;
}

const CONDITIONS: readonly NotifyCondition[] = ['SUCCESS', 'FAILURE', 'DELAY'];
const ADDR_TYPE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/; // RFC 3461 4.2: addr-type is an atom
const MAX_ORCPT = 500; // RFC 3461 4.2: the whole ORCPT parameter is at most 500 characters

/** RFC 3461 4.1: NOTIFY=NEVER alone, or a comma list of SUCCESS, FAILURE and DELAY, any case. */
export function parseNotify(value: string): Notify | undefined {
  const items = value.toUpperCase().split(',');
  if (items.length === 1 && items[0] === 'NEVER') return 'NEVER';
  if (items.some((i) => !CONDITIONS.includes(i as NotifyCondition))) return undefined;
  if (new Set(items).size !== items.length) return undefined;
  return items as NotifyCondition[];
}

/** `addr-type ";" xtext` as ORCPT (RFC 3461 4.2) and ARCPT use it. UTF-8 ORCPTs (RFC 6533) keep their text. */
export function parseTypedAddress(value: string): TypedAddress | null {
  const semi = value.indexOf(';');
  if (semi <= 0) return null;
  const type = value.slice(0, semi);
  const text = value.slice(semi + 1);
  if (!ADDR_TYPE.test(type) || text === '') return null;
  const address = type.toLowerCase() === 'utf-8' ? text : decodeXtext(text);
  return address === null ? null : { type, address };
}

export function parseRcptParams(raw: readonly RawParam[], ext: AdvertisedExtensions, smtputf8: boolean): ParsedRcpt | ParamError {
  let notify: Notify = null;
  let orcpt: TypedAddress | undefined;
  let arcpt: TypedAddress | undefined;
  for (const { keyword, value } of raw) {
    switch (keyword) {
      case 'NOTIFY': {
        if (!ext.dsn) return paramError('param-unknown', 'Unsupported RCPT parameter NOTIFY', keyword);
        const n = value === null ? undefined : parseNotify(value);
        if (n === undefined) return paramError('param-syntax', 'NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY', keyword);
        notify = n;
        break;
      }
      case 'ORCPT': {
        if (!ext.dsn) return paramError('param-unknown', 'Unsupported RCPT parameter ORCPT', keyword);
        const o = value === null || value.length + 6 > MAX_ORCPT ? null : parseTypedAddress(value);
        if (o === null || (o.type.toLowerCase() === 'utf-8' ? !smtputf8 && !isAscii(o.address) : !isPrintableAscii(o.address))) return paramError('param-syntax', 'ORCPT must be addr-type;xtext', keyword);
        orcpt = o;
        break;
      }
      case 'ARCPT': {
        if (!ext.altRecip) return paramError('param-unknown', 'Unsupported RCPT parameter ARCPT', keyword);
        const a = value === null ? null : parseTypedAddress(value);
        if (a === null || a.type.toLowerCase() !== 'rfc822' || !isMailbox(a.address) || (!smtputf8 && !isAscii(a.address)))
          return paramError('param-syntax', 'ARCPT must be rfc822;<mailbox> in xtext', keyword);
        arcpt = { type: 'rfc822', address: a.address };
        break;
      }
      default:
        return paramError('param-unknown', `Unsupported RCPT parameter ${printable(keyword)}`, keyword);
    }
  }
  const parsed: { -readonly [K in keyof ParsedRcpt]: ParsedRcpt[K] } = { notify };
  if (orcpt) parsed.orcpt = orcpt;
  if (arcpt) parsed.arcpt = arcpt;
  return parsed;
}
