import { decodeSession, FrameType, isFrameError, type Capabilities, type HelloFrame } from '../codec/link-frame.ts';
import { helloAnswerGapMs } from './decisions.ts';
import { proof, sameBytes, sessionKeys, type HelloTranscript, type SessionKeys } from './handshake.ts';

/** A session both stations can derive: whose hello, both nonces, the keys, and the peer's limits. */
export interface Session {
  readonly role: 'caller' | 'answerer';
  readonly transcript: HelloTranscript;
  readonly keys: SessionKeys;
  readonly peerCaps: Capabilities;
  /** The pre-shared key that proved this session (one of the link's keys, during a key change). */
  readonly psk: Uint8Array;
  /** Frames are encrypted (a link whose licence allows it), not only authenticated. */
  readonly sealed: boolean;
}

/**
 * Our own hellos kept answerable: a reply may come late (long modem latency, a TNC's backlog). The answerer keeps
 * as many of its offers, so a reply the caller takes is to an offer the answerer still holds.
 */
const KEEP_CALLS = 8;
const CALL_LIFETIME_MS = 10 * 60_000;
/** Hellos we answered whose caller has not proved the key yet; the oldest gives way. */
const KEEP_CANDIDATES = KEEP_CALLS;
/** Older calls still recognised, so that a very late reply is known as stale rather than taken for a wrong key. */
const REMEMBER_CALLS = 32;

/**
 * The hello's bookkeeping (docs/protocol.md section 4), apart from the radio: the nonces of our recent calls,
 * so a reply to any of them is taken; the sessions we offered in answers, each becoming the session only when
 * its caller proves the key with AUTH, so an unauthenticated hello never disturbs a session that is up; and
 * the spacing of answers given while a session is up.
 *
 * Key changes without downtime: a link may hold two keys (the current one first, then the next, or the reverse).
 * A reply is taken when it proves any of them, and an answer proves one of them in turn (the first, then the
 * next after an answer that was not proved, ...), so a station that holds both talks to one that holds either;
 * the session runs under the key that proved it.
 */
export class HelloState {
  private calls: { nonce: Uint8Array; at: number; used: boolean }[] = [];
  private candidates: (Session & { readonly at: number })[] = [];
  private unprovenAnswers = 0;
  private lastAnswerAt = -Infinity;
  private readonly keys: readonly Uint8Array[];

  constructor(
    private readonly station: string,
    private readonly peer: string,
    psk: Uint8Array | readonly Uint8Array[],
    /** Encrypt the session's frames (both stations must say so: the proofs differ otherwise). */
    private readonly sealed = false,
  ) {
    this.keys = psk instanceof Uint8Array ? [psk] : [...psk];
    if (this.keys.length === 0) throw new RangeError('HelloState: a link needs a key');
  }

  /** We call with `nonce`. */
  called(nonce: Uint8Array, now: number): void {
    this.calls = [...this.calls.filter((c) => now - c.at < CALL_LIFETIME_MS).slice(-(REMEMBER_CALLS - 1)), { nonce, at: now, used: false }];
  }

  /**
   * A reply to one of our recent calls that proves the key, as the session it opens. 'stale': it proves the key
   * for a call already used, or too old for the answerer to hold its offer still; 'wrong-key': it proves the key
   * for none of the calls we made (the keys differ).
   */
  reply(h: HelloFrame, now: number): Session | 'wrong-key' | 'stale' | 'not-calling' {
    if (this.calls.length === 0) return 'not-calling';
    const calls = this.calls.filter((c) => now - c.at < CALL_LIFETIME_MS);
    for (let i = calls.length - 1; i >= 0; i--) {
      const c = calls[i]!;
      const t: HelloTranscript = { caller: this.station, answerer: h.station, callerNonce: c.nonce, answererNonce: h.nonce };
      const psk = h.proof && this.keys.find((k) => sameBytes(h.proof!, proof(k, t, 'answerer', this.sealed)));
      if (!psk) continue;
      if (c.used || calls.length - i > KEEP_CALLS) return 'stale';
      c.used = true;
      return { role: 'caller', transcript: t, keys: sessionKeys(psk, t, 'caller', this.sealed), peerCaps: h.caps, psk, sealed: this.sealed };
    }
    return 'wrong-key';
  }

  /** We answer a hello with `nonce`: the session it offers waits for the caller's AUTH. Returns our proof. */
  answer(h: HelloFrame, nonce: Uint8Array, now: number): Uint8Array {
    const t: HelloTranscript = { caller: h.station, answerer: this.station, callerNonce: h.nonce, answererNonce: nonce };
    // During a key change, each answer the caller did not prove tries the next key.
    const psk = this.keys[this.unprovenAnswers % this.keys.length]!;
    this.candidates = [
      ...this.candidates.filter((c) => now - c.at < CALL_LIFETIME_MS).slice(-(KEEP_CANDIDATES - 1)),
      { role: 'answerer', transcript: t, keys: sessionKeys(psk, t, 'answerer', this.sealed), peerCaps: h.caps, psk, sealed: this.sealed, at: now },
    ];
    this.lastAnswerAt = now;
    this.unprovenAnswers++;
    return proof(psk, t, 'answerer', this.sealed);
  }

  /** While a session is up, whether a new hello is answered now (unproven answers are spaced out). */
  mayAnswer(now: number): boolean {
    return now - this.lastAnswerAt >= helloAnswerGapMs(Math.max(0, this.unprovenAnswers - 1));
  }

  /**
   * The offered session under whose key `frame` is an AUTH with the caller's proof, if any: it becomes the
   * session. A frame that is not such an AUTH returns 'bad-proof' when it verifies but proves wrong.
   */
  proven(frame: Uint8Array, maxData: number): Session | 'bad-proof' | undefined {
    for (const s of [...this.candidates].reverse()) {
      const f = decodeSession(frame, s.keys.receive, maxData);
      if (isFrameError(f) || f.type !== FrameType.AUTH) continue;
      if (!sameBytes(f.proof, proof(s.psk, s.transcript, 'caller', s.sealed))) return 'bad-proof';
      this.candidates = [];
      this.unprovenAnswers = 0;
      const { at: _at, ...session } = s;
      return session;
    }
    return undefined;
  }

  get offering(): boolean {
    return this.candidates.length > 0;
  }

  isPeer(station: string): boolean {
    return station === this.peer;
  }
}
