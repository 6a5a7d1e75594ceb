import type { Priority } from '../core/index.ts';
import type { MailCommand, RcptCommand } from '../mail/index.ts';
import type { Route } from '../core/index.ts';

/** What hfmail knows about the current mail transaction, beside smtp-server's own envelope. */
export interface Transaction {
  readonly receivedAt: number;
  readonly mail: MailCommand;
  /** Priority as determined at MAIL FROM; a header may still set it at DATA when no parameter was given. */
  priority: Priority;
  /** Why the priority differs from the request, reported with 2.3.6. */
  priorityChange?: string;
  /** A RCPT our grammar accepted, with its route (for postmaster, maybe an alias), until smtp-server accepts it too. */
  pendingRcpt?: { rcpt: RcptCommand; route: Route };
  /** Accepted recipients by lower-cased address: a repeated RCPT replaces the earlier one, as in smtp-server. */
  readonly recipients: Map<string, { rcpt: RcptCommand; route: Route }>;
}

/** Fields hfmail keeps on smtp-server's session object (it is reused for the whole connection). */
export interface SessionState {
  hfTransaction?: Transaction;
  /** A MAIL FROM our grammar accepted, until smtp-server accepts it too (it may still say 503 nested MAIL). */
  hfPendingMail?: Transaction;
  /** Set once the client authenticated: the most it may raise priority to. */
  hfUserCeiling?: number;
}
