import type { Deadline, DeadlineMode } from '../core/index.ts';

/** A BY= or ABY= value before it is anchored to the time of MAIL FROM. */
export interface DeadlineSpec {
  readonly seconds: number;
  readonly mode: DeadlineMode;
  readonly trace: boolean;
}

// RFC 2852 section 4: by-time = ["-" / "+"] 1*9DIGIT ";" by-mode [by-trace]. ABNF literals are
// case-insensitive, so r/n/t are accepted and stored upper-case.
const BY_VALUE = /^([-+]?)(\d{1,9});([RrNn])([Tt]?)$/;

export function parseDeadlineSpec(value: string): DeadlineSpec | null {
  const m = BY_VALUE.exec(value);
  if (!m) return null;
  const seconds = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  return { seconds: seconds === 0 ? 0 : seconds, mode: m[3]!.toUpperCase() as DeadlineMode, trace: m[4] !== '' };
}

/** The deliver-by-time: receipt of MAIL FROM plus the by-time (RFC 2852 section 4). */
export function anchorDeadline(spec: DeadlineSpec, receivedAt: number): Deadline {
  return { at: receivedAt + spec.seconds * 1000, mode: spec.mode, trace: spec.trace, requestedSeconds: spec.seconds };
}

/** Whole seconds left until a deadline, rounded down, as a relayed BY= carries them (RFC 2852 4.1.4). */
export function remainingSeconds(deadline: Deadline, now: number): number {
  return Math.floor((deadline.at - now) / 1000);
}

export function formatDeadline(seconds: number, deadline: Pick<Deadline, 'mode' | 'trace'>): string {
  return `${seconds};${deadline.mode}${deadline.trace ? 'T' : ''}`;
}
