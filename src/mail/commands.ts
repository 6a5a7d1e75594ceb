import { isAscii, isMailbox } from './address.ts';
import { parseAddressCommand, printable } from './command-line.ts';
import type { AdvertisedExtensions } from './extensions.ts';
import { parseMailParams, type ParsedMail } from './mail-params.ts';
import { isParamError, paramError, type ParamError } from './param-error.ts';
import { parseRcptParams, type ParsedRcpt } from './rcpt-params.ts';

export interface MailCommand extends ParsedMail {
  /** Reverse-path; "" is the null sender. */
  readonly sender: string;
}

export interface RcptCommand extends ParsedRcpt {
  readonly recipient: string;
}

/** The whole MAIL FROM line: path, then every parameter; the first problem wins. */
export function parseMailCommand(line: string, ext: AdvertisedExtensions, receivedAt: number): MailCommand | ParamError {
  const cmd = parseAddressCommand(line, 'MAIL FROM');
  if (isParamError(cmd)) return cmd;
  const parsed = parseMailParams(cmd.params, ext, receivedAt);
  if (isParamError(parsed)) return parsed;
  const problem = checkPath(cmd.path, parsed.params.smtputf8, true);
  return problem ?? { sender: cmd.path, ...parsed };
}

/** The whole RCPT TO line; `smtputf8` is whether this transaction's MAIL FROM carried SMTPUTF8. */
export function parseRcptCommand(line: string, ext: AdvertisedExtensions, smtputf8: boolean): RcptCommand | ParamError {
  const cmd = parseAddressCommand(line, 'RCPT TO');
  if (isParamError(cmd)) return cmd;
  const isPostmaster = cmd.path.toLowerCase() === 'postmaster'; // RFC 5321 4.1.1.3
  const problem = isPostmaster ? null : checkPath(cmd.path, smtputf8, false);
  if (problem) return problem;
  const parsed = parseRcptParams(cmd.params, ext, smtputf8);
  return isParamError(parsed) ? parsed : { recipient: cmd.path, ...parsed };
}

function checkPath(path: string, smtputf8: boolean, nullAllowed: boolean): ParamError | null {
  if (path === '') return nullAllowed ? null : paramError('address-syntax', 'Recipient address required');
  if (!smtputf8 && !isAscii(path)) return paramError('address-non-ascii', 'Non-ASCII address requires SMTPUTF8 (RFC 6531)');
  if (!isMailbox(path)) return paramError('address-syntax', `Bad address syntax <${printable(path)}>`);
  return null;
}
