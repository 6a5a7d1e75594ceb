import { createHmac } from 'node:crypto';
import { PROOF_BYTES, SealingKey, type FrameKey } from '../codec/link-frame.ts';

/**
 * Keys and proofs of the hello (docs/protocol.md): both stations know a pre-shared key per peer; each
 * session gets fresh keys from both nonces, one per direction, so frames of another session or reflected
 * frames fail their MAC.
 */
export interface SessionKeys {
  readonly send: FrameKey;
  readonly receive: FrameKey;
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

/**
 * The session's keys, one per direction: MAC keys, or, on a link that encrypts (`sealed`), AES-256-GCM keys with
 * a nonce salt each, derived from the same session secret under other labels.
 */
export function sessionKeys(psk: Uint8Array, t: HelloTranscript, role: 'caller' | 'answerer'): SessionKeys & { readonly send: Uint8Array; readonly receive: Uint8Array };
export function sessionKeys(psk: Uint8Array, t: HelloTranscript, role: 'caller' | 'answerer', sealed: boolean): SessionKeys;
export function sessionKeys(psk: Uint8Array, t: HelloTranscript, role: 'caller' | 'answerer', sealed = false): SessionKeys {
  const base = hmac(psk, 'hfmail/1 session', t.caller, t.answerer, t.callerNonce, t.answererNonce);
  const key = (direction: string): FrameKey => (sealed ? new SealingKey(hmac(base, `${direction} cipher`), hmac(base, `${direction} salt`).subarray(0, 8)) : hmac(base, direction));
  const c2a = key('caller->answerer');
  const a2c = key('answerer->caller');
  return role === 'caller' ? { send: c2a, receive: a2c } : { send: a2c, receive: c2a };
}

/**
 * The answerer's proof, in its HELLO_REPLY, and the caller's, in its AUTH frame. A link that encrypts proves under
 * another label, so two stations that disagree about encryption never share a session (the keys seem to differ).
 */
export function proof(psk: Uint8Array, t: HelloTranscript, of: 'caller' | 'answerer', sealed = false): Uint8Array {
  return hmac(psk, `hfmail/1 proof ${of}${sealed ? ' sealed' : ''}`, t.caller, t.answerer, t.callerNonce, t.answererNonce).subarray(0, PROOF_BYTES);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
