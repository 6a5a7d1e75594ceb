import { createHmac } from 'node:crypto';
import { PROOF_BYTES } from '../codec/link-frame.ts';

/**
 * Keys and proofs of the hello (docs/protocol.md): both stations know a pre-shared key per peer; each
 * session gets fresh keys from both nonces, one per direction, so frames of another session or reflected
 * frames fail their MAC.
 */
export interface SessionKeys {
  readonly send: Uint8Array;
  readonly receive: Uint8Array;
}

function hmac(key: Uint8Array, ...parts: (string | Uint8Array)[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    h.update(Uint8Array.of(b.length >> 8, b.length & 0xff)); // length-prefixed: no ambiguity between parts
    h.update(b);
  }
  return h.digest();
}

export interface HelloTranscript {
  readonly caller: string;
  readonly answerer: string;
  readonly callerNonce: Uint8Array;
  readonly answererNonce: Uint8Array;
}

export function sessionKeys(psk: Uint8Array, t: HelloTranscript, role: 'caller' | 'answerer'): SessionKeys {
  const base = hmac(psk, 'hfmail/1 session', t.caller, t.answerer, t.callerNonce, t.answererNonce);
  const c2a = hmac(base, 'caller->answerer');
  const a2c = hmac(base, 'answerer->caller');
  return role === 'caller' ? { send: c2a, receive: a2c } : { send: a2c, receive: c2a };
}

/** The answerer's proof, in its HELLO_REPLY, and the caller's, in its AUTH frame. */
export function proof(psk: Uint8Array, t: HelloTranscript, of: 'caller' | 'answerer'): Uint8Array {
  return hmac(psk, `hfmail/1 proof ${of}`, t.caller, t.answerer, t.callerNonce, t.answererNonce).subarray(0, PROOF_BYTES);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
