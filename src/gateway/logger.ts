import pino, { type Logger } from 'pino';

/** The one root logger: JSON lines, or pretty output when stderr is a terminal and pino-pretty is installed. */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.HFMAIL_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? process.stderr.isTTY;
  if (pretty) {
    try {
      return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } });
    } catch {
      // pino-pretty is a development dependency; plain JSON is fine without it
    }
  }
  return pino({ level }, pino.destination(2));
}
