import type { QueuedMessage, Route } from '../core/index.ts';
import type { AttemptOutcome, DueRecipient } from '../queue/index.ts';

/** What the relay needs from the queue; the queue implements it (design.md section 2). */
export interface DeliveryStore {
  due(now: number): DueRecipient[];
  nextDueAt(): number | undefined;
  record(messageId: string, idx: number, outcome: AttemptOutcome, attempted?: boolean): void;
  get(id: string): QueuedMessage | undefined;
  /** New messages the relay makes: DSNs and redirected copies. Durable on return (or with the transaction). */
  insert(message: QueuedMessage): void;
  /** Runs `fn` in one transaction: an outcome and the DSN or copy it causes commit together or not at all. */
  transaction<T>(fn: () => T): T;
  /** The radio link is done with a message's transfer to `peer`: its stored bundle and progress go. */
  forgetLink(peer: string, id: string): void;
}

export interface RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** A recipient still failing temporarily after this long fails for good. */
  readonly giveUpMs: number;
  /** ALTRECIP: temporary failures for this long redirect to the alternate (decisions.md). */
  readonly altRecipWindowMs: number;
}

export interface RelayPolicy {
  readonly hostname: string;
  readonly retry: RetryPolicy;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly starttls: 'off' | 'opportunistic' | 'required';
  /** MX lookups: resolver addresses (host or host:port; the system's when empty) and a timeout. */
  readonly dns: { readonly servers: readonly string[]; readonly timeoutMs: number };
  /** Delivery sessions at once, and to one destination (default 8 and 2). */
  readonly sessions?: { readonly max: number; readonly perDestination: number };
  route(address: string): Route | null;
  newId(): string;
}

/** RFC 6710 5.1 allows shorter retry intervals for higher priorities. */
export function retryDelay(policy: RetryPolicy, attempts: number, priority: number): number {
  const scale = priority >= 4 ? 0.25 : priority >= 0 ? 1 : 2;
  return Math.min(policy.maxMs, policy.baseMs * scale * 2 ** Math.max(0, attempts - 1));
}
