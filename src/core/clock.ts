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
