import { bundleTarget } from './bundle-target.ts';
import { dsnTarget } from './dsn-target.ts';
import { frameTarget } from './frame-target.ts';
import { kissTarget } from './kiss-target.ts';
import { caseRng } from './rng.ts';
import type { DecoderTarget } from './target.ts';

export const DECODER_TARGETS: Record<string, DecoderTarget<unknown>> = {
  kiss: kissTarget as DecoderTarget<unknown>,
  frame: frameTarget as DecoderTarget<unknown>,
  bundle: bundleTarget as DecoderTarget<unknown>,
  dsn: dsnTarget as DecoderTarget<unknown>,
};

export interface FuzzResult {
  readonly target: string;
  readonly seed: number;
  readonly inputs: number;
  readonly ms: number;
  /** The first failure: the case number (replay with --case), what went wrong, and the input. */
  readonly failure?: { readonly caseNo: number; readonly error: string; readonly input: string };
}

/**
 * Runs a decoder target for `ms` of wall time (or the single case `only`): case N is generated from (seed, N)
 * alone, so a failure is replayed with the same seed and --case N. Stops at the first failure.
 */
export function runDecoder(target: DecoderTarget<unknown>, seed: number, ms: number, only?: number): FuzzResult {
  target.setup?.();
  const start = performance.now();
  let n = only ?? 0;
  const last = only ?? Infinity;
  for (;;) {
    if (n > last) break;
    if ((n & 255) === 0 && only === undefined && performance.now() - start >= ms) break;
    const input = target.generate(caseRng(seed, n));
    try {
      target.check(input);
    } catch (err) {
      let shown: string;
      try {
        shown = target.show(input);
      } catch {
        shown = '(the input could not be shown)';
      }
      return { target: target.name, seed, inputs: only === undefined ? n + 1 : 1, ms: performance.now() - start, failure: { caseNo: n, error: (err as Error)?.stack ?? String(err), input: shown } };
    }
    n++;
  }
  return { target: target.name, seed, inputs: only === undefined ? n : 1, ms: performance.now() - start };
}
