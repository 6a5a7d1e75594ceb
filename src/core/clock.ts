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

/** Longest delay setTimeout honours (2^31 - 1 ms, 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 0x7fff_ffff;

/**
 * Real time. A delay past MAX_TIMEOUT_MS (a BY of 30 days is legal) is waited in pieces, so no user of the clock
 * can overflow setTimeout into a timer that fires at once and spins.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    if (Number.isNaN(ms)) throw new RangeError('setTimer: ms is NaN');
    if (ms === Infinity) return { cancel: () => undefined };
    const due = Date.now() + Math.max(0, ms);
    let handle: ReturnType<typeof setTimeout>;
    const arm = (wait: number) => {
      handle = setTimeout(() => {
        const left = due - Date.now();
        if (left > 0) arm(left);
        else fn();
      }, Math.min(wait, MAX_TIMEOUT_MS));
    };
    if (ms <= MAX_TIMEOUT_MS) handle = setTimeout(fn, Math.max(0, ms));
    else arm(ms);
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
