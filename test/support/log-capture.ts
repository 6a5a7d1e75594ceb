import pino from 'pino';

export interface CapturedLog {
  readonly log: pino.Logger;
  /** Every line written so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /** The raw text of every line, to search for what must never be logged. */
  text(): string;
}

/** A pino logger at `level` whose lines are kept in memory for assertions. */
export function captureLog(level: pino.Level = 'debug'): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = pino({ level }, { write: (line: string) => void (raw.push(line), lines.push(JSON.parse(line) as Record<string, unknown>)) });
  return { log, lines, text: () => raw.join('') };
}
