/**
 * The link's decisions as pure functions of what the station knows, so that each is table-tested and no part
 * of the station decides "idle" without knowing what another part waits for.
 */

/** What the station holds at the end of an over, for deciding whether it says IDLE. */
export interface OverState {
  /** Records written in this over. */
  readonly records: number;
  readonly unacked: boolean;
  readonly work: boolean;
  /** Messages whose outcome waits for the peer's word (custody, or the answer to a CANCEL). */
  readonly awaitingAnswer: number;
  /** Answers we owe the peer that are not on the air yet (the sink is still deciding). */
  readonly owing: boolean;
}

/**
 * An over ends IDLE (no answer needed) only when nothing at all is outstanding: no record unacknowledged, none
 * to send, no message waiting for custody or for the answer to a withdrawal, nothing we still owe.
 */
export function overIsIdle(s: OverState): boolean {
  return s.records === 0 && !s.unacked && !s.work && s.awaitingAnswer === 0 && !s.owing;
}

/** The peer handed the channel over: answer unless it said IDLE and we have nothing to say. */
export function answersTurn(peerIdle: boolean, somethingToSay: boolean): boolean {
  return !peerIdle || somethingToSay;
}

/** A message complete without custody is offered again after this many of the peer's turns. */
export function reopenAfterTurns(peerIdle: boolean): number {
  return peerIdle ? 1 : 2;
}

/**
 * What to do when the peer's answer did not come. `hello`: nothing valid heard for several overs, so the peer
 * lost our session; `resend`: send every unacknowledged record again; `ask`: only ask again (custody, cancels).
 */
export function onNoAnswer(unansweredOvers: number, hasUnacked: boolean, modemArq: boolean, maxUnanswered: number): 'hello' | 'resend' | 'ask' {
  if (unansweredOvers >= maxUnanswered) return 'hello';
  return hasUnacked && !modemArq ? 'resend' : 'ask';
}

/**
 * Whether a hello heard while a session is up is answered now. An unproven hello never ends the session, but
 * each answer costs airtime, so answers to hellos that prove nothing are spaced out: the gap doubles with each
 * (5 s up to 2 min) and is reset when a caller proves the key.
 */
export function helloAnswerGapMs(unprovenAnswers: number): number {
  return Math.min(120_000, 5000 * 2 ** Math.min(unprovenAnswers, 5));
}

/** Back-off before calling again without an answer: 1 s doubling to 60 s, times a jitter factor in [0.5, 1.5]. */
export function callBackoffMs(attempts: number, jitter: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(Math.max(0, attempts - 1), 6)) * (0.5 + jitter);
}

/** Back-off after a transient refusal: 30 s doubling to 30 min. */
export function deferralMs(deferrals: number): number {
  return Math.min(30 * 60_000, 30_000 * 2 ** Math.min(deferrals, 6));
}

/**
 * Records in flight: the session's window (the smaller of both stations' profiles), narrowed while loss is heavy
 * so an over is not spent on frames that will be lost, but never below 8 or the window itself.
 */
export function windowFor(window: number, frameLoss: number): number {
  const narrowed = Math.round(window * Math.min(1, 1.3 - frameLoss));
  return Math.min(window, Math.max(Math.min(8, window), narrowed));
}

/** How a message whose deadline passed leaves the link: at once if it never went on the air, else by asking the peer. */
export function expiryAction(everOnAir: boolean): 'withdraw' | 'cancel' {
  return everOnAir ? 'cancel' : 'withdraw';
}

/** Both stations called at once: the one with the smaller id answers (docs/protocol.md section 4). */
export function answersCollidingHello(self: string, peer: string): boolean {
  return self < peer;
}
