import { format } from 'node:util';
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type BunyanStyle = Record<Level, (...args: unknown[]) => void>;

/** Socket errors that only mean the client went away (reset, closed mid-session, unreachable): not our fault. */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNECTION', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Whether an error is a client disconnect rather than a fault of the gateway. */
export function isClientGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CLIENT_GONE.has(code);
}

/** A client disconnect as log fields: the code and address, no stack trace. */
export function clientGoneFields(err: unknown): { code: unknown; client?: unknown } {
  const e = err as { code?: unknown; remoteAddress?: unknown };
  return { code: e.code, ...(e.remoteAddress ? { client: e.remoteAddress } : {}) };
}

/**
 * smtp-server logs bunyan-style `(fields, 'S:', line)`; pino would drop the extra arguments, so they are
 * formatted into the message. Protocol chatter goes to debug; smtp-server's info lines are chatty too, and so is
 * its error line for a client that disconnected, which goes to debug without the stack.
 */
export function smtpServerLogger(log: Logger): BunyanStyle {
  const out = {} as BunyanStyle;
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
    const target: Level = level === 'info' ? 'debug' : level;
    out[level] = (first: unknown, ...rest: unknown[]) => {
      if (typeof first === 'string') return log[target](format(first, ...rest));
      const err = (first as { err?: unknown } | null)?.err;
      if (err !== undefined && isClientGone(err)) {
        const { err: _err, ...fields } = first as Record<string, unknown>;
        return log.debug({ ...fields, ...clientGoneFields(err) }, format(...rest));
      }
      log[target](first as object, format(...rest));
    };
  }
  return out;
}
