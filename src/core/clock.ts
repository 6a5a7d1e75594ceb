/** Time source injected everywhere, so protocol code runs in real or virtual time alike. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimer(ms: number, fn: () => void): Timer;
}

export interface Timer {
  cancel(): void;
}

/** Randomness injected so that tests and simulations can replay a seed. */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * The same clock read in whole milliseconds, as the queue stores time. A simulated radio's clock moves in
 * fractions of a millisecond (a byte at 2400 bit/s takes 3.33 ms); the system clock already reads whole ones.
 */
export function wholeMilliseconds(clock: Clock): Clock {
  return { now: () => Math.floor(clock.now()), setTimer: (ms, fn) => clock.setTimer(ms, fn) };
}
