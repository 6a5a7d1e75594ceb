/**
 * Why a MAIL or RCPT parameter (or the command around it) was refused. The smtp layer maps each code to
 * a reply in one table; this layer only says what is wrong.
 */
export type ParamErrorCode =
  | 'command-syntax' // the line is not `MAIL FROM:<path> [params]`
  | 'address-syntax' // the path is not a mailbox
  | 'address-non-ascii' // UTF-8 in a path without SMTPUTF8 (RFC 6531)
  | 'param-syntax' // a parameter value does not match its grammar
  | 'priority-syntax' // MT-PRIORITY value outside RFC 6710's grammar
  | 'param-duplicate' // the same keyword twice
  | 'param-conflict' // two parameters that exclude each other (MT-PRIORITY with PRIORITY, ABY >= BY)
  | 'param-unknown' // a keyword we do not advertise (RFC 5321 4.1.1.11)
  | 'by-below-minimum'; // R-mode BY shorter than the advertised minimum (RFC 2852 section 3)

export interface ParamError {
  readonly error: ParamErrorCode;
  /** The keyword concerned, upper case, when there is one. */
  readonly param?: string;
  readonly detail: string;
}

export function paramError(error: ParamErrorCode, detail: string, param?: string): ParamError {
  return param === undefined ? { error, detail } : { error, param, detail };
}

export function isParamError(value: unknown): value is ParamError {
  return typeof value === 'object' && value !== null && 'error' in value && 'detail' in value;
}
