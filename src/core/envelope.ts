import type { Priority } from './priority.ts';
import type { DeliveryStatus } from './delivery-status.ts';

/** RFC 2852 by-mode: R returns the message when late, N notifies and keeps trying. */
export type DeadlineMode = 'R' | 'N';

/** A BY (RFC 2852) or ABY (ALTRECIP) request, converted to an absolute time at MAIL FROM. */
export interface Deadline {
  /** Absolute deadline, ms since the epoch: receipt of MAIL FROM + the requested seconds. */
  readonly at: number;
  readonly mode: DeadlineMode;
  /** RFC 2852 by-trace flag `T`. */
  readonly trace: boolean;
  /** The by-time as the client sent it, in seconds. */
  readonly requestedSeconds: number;
}

/** DSN NOTIFY is tri-state: absent, NEVER, or a set of conditions (RFC 3461 4.1). */
export type NotifyCondition = 'SUCCESS' | 'FAILURE' | 'DELAY';
export type Notify = null | 'NEVER' | readonly NotifyCondition[];

/** An address with its RFC 3461 addr-type, the value xtext-decoded (ORCPT, ARCPT). */
export interface TypedAddress {
  readonly type: string;
  readonly address: string;
}

export type BodyType = '7BIT' | '8BITMIME';

/** Everything given on MAIL FROM, absent parameters kept absent. */
export interface MailParams {
  readonly envid?: string;
  readonly ret?: 'FULL' | 'HDRS';
  readonly body?: BodyType;
  readonly smtputf8: boolean;
  readonly size?: number;
  readonly by?: Deadline;
  readonly aby?: Deadline;
}

export type RouteKind = 'maildir' | 'lmtp' | 'smtp' | 'mx' | 'link';

/** Where a recipient goes next, chosen from the configured routes at acceptance. */
export interface Route {
  readonly kind: RouteKind;
  /** Path, host:port or peer station id; empty for `mx`. */
  readonly target: string;
}

/**
 * queued: waiting for delivery or the radio link. delivered, failed, redirected: final. held: kept back (by the
 * operator, or automatically) until released. corrupt: the stored message cannot be decoded; quarantined, never
 * delivered and never purged automatically. Only queued recipients are due for the relay or pending for a link.
 */
export type RecipientState = 'queued' | 'delivered' | 'failed' | 'redirected' | 'held' | 'corrupt';

export interface Recipient {
  readonly address: string;
  readonly notify: Notify;
  readonly orcpt?: TypedAddress;
  /** ALTRECIP alternate recipient (ARCPT=), used when the primary cannot be reached. */
  readonly arcpt?: TypedAddress;
  readonly route: Route;
  readonly state: RecipientState;
  readonly status?: DeliveryStatus;
}

/** Who handed us the message, for trace fields and audit. */
export interface Submitter {
  readonly clientAddress: string;
  readonly clientHostname: string;
  readonly helo: string;
  /** SMTP AUTH identity, when authenticated. */
  readonly user?: string;
  readonly trusted: boolean;
}

/** A message as the queue stores it. */
export interface QueuedMessage {
  readonly id: string;
  readonly receivedAt: number;
  /** Reverse-path; the empty string is the null sender `<>`. */
  readonly sender: string;
  readonly params: MailParams;
  readonly priority: Priority;
  readonly recipients: readonly Recipient[];
  readonly submitter: Submitter;
  /** Content exactly as stored: our Received line prepended to what the client sent. */
  readonly content: Uint8Array;
}
