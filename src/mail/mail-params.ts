import type { BodyType, MailParams } from '../core/index.ts';
import { isPrintableAscii } from './address.ts';
import { anchorDeadline, parseDeadlineSpec } from './deliver-by.ts';
import { printable, type RawParam } from './command-line.ts';
import type { AdvertisedExtensions } from './extensions.ts';
import { paramError, type ParamError } from './param-error.ts';
import { parseDraftPriority, parseMtPriority } from './priority-value.ts';
import { decodeXtext } from './xtext.ts';

/** A priority the client asked for on MAIL FROM, in the scale of the keyword it used. */
export type PriorityRequest = { readonly kind: 'mt-priority' | 'draft-priority'; readonly value: number };

export interface ParsedMail {
  readonly params: MailParams;
  readonly priorityRequest?: PriorityRequest;
  /** RFC 4954 AUTH= value, decoded; "" for `AUTH=<>`. */
  readonly authParam?: string;
}

const MAX_ENVID = 100; // RFC 3461 4.4: MTAs must accept at least 100 characters

/** Parses and checks every MAIL FROM parameter against the grammar of the extension that defines it. */
export function parseMailParams(raw: readonly RawParam[], ext: AdvertisedExtensions, receivedAt: number): ParsedMail | ParamError {
  const params: { -readonly [K in keyof MailParams]: MailParams[K] } = { smtputf8: false };
  let priorityRequest: PriorityRequest | undefined;
  let authParam: string | undefined;
  let aby: ReturnType<typeof parseDeadlineSpec> = null;

  for (const { keyword, value } of raw) {
    const need = (on: boolean): ParamError | null => (on ? null : paramError('param-unknown', `Unsupported MAIL parameter ${printable(keyword)}`, keyword));
    const needValue = (): ParamError | null => (value === null || value === '' ? paramError('param-syntax', `${keyword} requires a value`, keyword) : null);
    let problem: ParamError | null = null;
    switch (keyword) {
      case 'SIZE':
        problem = need(true) ?? (/^\d{1,20}$/.test(value ?? '') ? null : paramError('param-syntax', 'SIZE must be 1 to 20 digits', keyword));
        if (!problem) params.size = Number(value);
        break;
      case 'BODY': {
        problem = need(ext.eightBitMime) ?? needValue();
        const body = value?.toUpperCase();
        if (!problem && body !== '7BIT' && body !== '8BITMIME') problem = paramError('param-syntax', 'BODY must be 7BIT or 8BITMIME', keyword);
        if (!problem) params.body = body as BodyType;
        break;
      }
      case 'SMTPUTF8':
        problem = need(ext.smtpUtf8) ?? (value === null ? null : paramError('param-syntax', 'SMTPUTF8 takes no value', keyword));
        params.smtputf8 = true;
        break;
      case 'RET': {
        problem = need(ext.dsn) ?? needValue();
        const ret = value?.toUpperCase();
        if (!problem && ret !== 'FULL' && ret !== 'HDRS') problem = paramError('param-syntax', 'RET must be FULL or HDRS', keyword);
        if (!problem) params.ret = ret as 'FULL' | 'HDRS';
        break;
      }
      case 'ENVID': {
        problem = need(ext.dsn) ?? needValue();
        const envid = problem ? null : decodeXtext(value!);
        if (!problem && (envid === null || !isPrintableAscii(envid) || envid.length > MAX_ENVID))
          problem = paramError('param-syntax', `ENVID must be xtext of at most ${MAX_ENVID} characters`, keyword);
        if (!problem) params.envid = envid!;
        break;
      }
      case 'MT-PRIORITY': {
        problem = need(ext.mtPriority !== null);
        const v = problem ? null : parseMtPriority(value ?? '');
        if (!problem && v === null) problem = paramError('priority-syntax', 'MT-PRIORITY must be an integer from -9 to 9 without a sign "+"', keyword);
        if (!problem) priorityRequest = { kind: 'mt-priority', value: v! };
        break;
      }
      case 'PRIORITY': {
        problem = need(ext.draftPriority);
        const v = problem ? null : parseDraftPriority(value ?? '');
        if (!problem && v === null) problem = paramError('priority-syntax', 'PRIORITY must be an integer from -99 to +99', keyword);
        if (!problem) priorityRequest = { kind: 'draft-priority', value: v! };
        break;
      }
      case 'BY': {
        problem = need(ext.deliverByMin !== null);
        const spec = problem ? null : parseDeadlineSpec(value ?? '');
        if (!problem && spec === null) problem = paramError('param-syntax', 'BY must be <seconds>;R or <seconds>;N with an optional T', keyword);
        else if (spec && spec.mode === 'R' && spec.seconds <= 0) problem = paramError('param-syntax', 'BY time must be positive with R mode', keyword);
        else if (spec && spec.mode === 'R' && spec.seconds < (ext.deliverByMin ?? 0))
          problem = paramError('by-below-minimum', `BY time below the minimum of ${ext.deliverByMin} seconds for R mode`, keyword);
        if (!problem && spec) params.by = anchorDeadline(spec, receivedAt);
        break;
      }
      case 'ABY': {
        // ALTRECIP: ABY needs DELIVERBY on the advertising server (decisions.md).
        problem = need(ext.altRecip && ext.deliverByMin !== null);
        aby = problem ? null : parseDeadlineSpec(value ?? '');
        if (!problem && aby === null) problem = paramError('param-syntax', 'ABY must be <seconds>;R or <seconds>;N with an optional T', keyword);
        else if (aby && aby.seconds <= 0) problem = paramError('param-syntax', 'ABY time must be positive', keyword);
        if (!problem && aby) params.aby = anchorDeadline(aby, receivedAt);
        break;
      }
      case 'AUTH': {
        problem = need(ext.auth) ?? needValue();
        const who = problem ? null : value === '<>' ? '' : decodeXtext(value!);
        if (!problem && who === null) problem = paramError('param-syntax', 'AUTH must be xtext or <>', keyword);
        if (!problem) authParam = who!;
        break;
      }
      default:
        // The client's keyword is echoed short and printable: a reply line is at most 512 bytes (RFC 5321 4.5.3.1.5).
        problem = paramError('param-unknown', `Unsupported MAIL parameter ${printable(keyword)}`, keyword);
    }
    if (problem) return problem;
  }

  if (raw.some((p) => p.keyword === 'MT-PRIORITY') && raw.some((p) => p.keyword === 'PRIORITY'))
    return paramError('param-conflict', 'One priority per message: MT-PRIORITY and PRIORITY exclude each other', 'PRIORITY');
  if (params.by && params.aby && params.aby.requestedSeconds >= params.by.requestedSeconds)
    return paramError('param-conflict', 'ABY must be shorter than BY', 'ABY');

  const parsed: { -readonly [K in keyof ParsedMail]: ParsedMail[K] } = { params };
  if (priorityRequest) parsed.priorityRequest = priorityRequest;
  if (authParam !== undefined) parsed.authParam = authParam;
  return parsed;
}
