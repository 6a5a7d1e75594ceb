import { format } from 'node:util';
import type { Logger } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type BunyanStyle = Record<Level, (...args: unknown[]) => void>;

/**
 * smtp-server logs bunyan-style `(fields, 'S:', line)`; pino would drop the extra arguments, so they are
 * formatted into the message. Protocol chatter goes to debug; smtp-server's info lines are chatty too.
 */
export function smtpServerLogger(log: Logger): BunyanStyle {
  const out = {} as BunyanStyle;
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
    const target: Level = level === 'info' ? 'debug' : level;
    out[level] = (first: unknown, ...rest: unknown[]) => {
      if (typeof first === 'string') log[target](format(first, ...rest));
      else log[target](first as object, format(...rest));
    };
  }
  return out;
}
