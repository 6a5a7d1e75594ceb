import type { Rng } from './rng.ts';

/** An oracle's verdict on one input: what was wrong, and the input to print. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

/**
 * A decoder target: makes one input from a case's generator and checks the decoder against its oracle, throwing
 * on a failure (a FuzzFailure, or whatever the decoder itself threw, which is a failure too). Synchronous, so the
 * loop runs hundreds of thousands of inputs a second.
 */
export interface DecoderTarget<T> {
  readonly name: string;
  readonly description: string;
  setup?(): void;
  generate(rng: Rng): T;
  check(input: T): void;
  /** The input, printably, for a crash report. */
  show(input: T): string;
}

export function fail(what: string): never {
  throw new FuzzFailure(what);
}

export function hex(b: Uint8Array, max = 2048): string {
  const s = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${s}... (${b.length} bytes)` : s;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
