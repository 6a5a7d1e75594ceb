import type Database from 'better-sqlite3';
import type { DeliveryStatus, Recipient, RecipientState } from '../core/index.ts';
import { decodeRecipient, type RecipientRow } from './row-codec.ts';

/** A recipient waiting for local delivery or a relay, with where it stands in its retries. */
export interface DueRecipient {
  readonly messageId: string;
  readonly idx: number;
  readonly recipient: Recipient;
  readonly attempts: number;
  readonly firstAttemptAt?: number;
}

export interface AttemptOutcome {
  readonly state: RecipientState;
  readonly status: DeliveryStatus;
  /** When to try again, for a recipient that stays queued. */
  readonly nextAttemptAt?: number;
}

type DueRow = RecipientRow & { attempts: number; first_attempt_at: number | null };

/**
 * The delivery side of the queue: which recipients are due, and recording each attempt. Recipients routed
 * to a radio link are the link's business and never show up here.
 */
export class DeliveryTable {
  private readonly dueStmt: Database.Statement<[number, number], DueRow>;
  private readonly nextStmt: Database.Statement<[], { at: number | null }>;
  private readonly updateStmt: Database.Statement<[{ state: string; status: string; next: number; first: number | null; attempted: number; id: string; idx: number }]>;
  private readonly maxIdxStmt: Database.Statement<[string], { n: number | null }>;

  constructor(private readonly db: Database.Database, columns: string) {
    // Due work goes highest priority first (RFC 6710 5.1), then the longest waiting.
    this.dueStmt = db.prepare(
      `SELECT ${columns.split(',').map((c) => `r.${c.trim()}`).join(', ')}, r.attempts, r.first_attempt_at FROM recipients r
       JOIN messages m ON m.id = r.message_id
       WHERE r.state = 'queued' AND r.route_kind <> 'link' AND r.next_attempt_at <= ?
       ORDER BY m.priority DESC, r.next_attempt_at, m.received_at LIMIT ?`,
    );
    this.nextStmt = db.prepare(`SELECT min(next_attempt_at) AS at FROM recipients WHERE state = 'queued' AND route_kind <> 'link'`);
    // An operator's hold (or a quarantine) made while an attempt was under way outlasts the attempt's "try again":
    // the recipient stays held, its hold status kept; a final outcome (delivered, failed, redirected) still wins.
    this.updateStmt = db.prepare(
      `UPDATE recipients SET
         state = CASE WHEN state IN ('held', 'corrupt') AND @state = 'queued' THEN state ELSE @state END,
         status = CASE WHEN state IN ('held', 'corrupt') AND @state = 'queued' THEN status ELSE @status END,
         next_attempt_at = @next, first_attempt_at = coalesce(first_attempt_at, @first), attempts = attempts + @attempted
       WHERE message_id = @id AND idx = @idx`,
    );
    this.maxIdxStmt = db.prepare('SELECT max(idx) AS n FROM recipients WHERE message_id = ?');
  }

  due(now: number, limit = 500): DueRecipient[] {
    return this.dueStmt.all(now, limit).map((row) => ({
      messageId: row.message_id,
      idx: row.idx,
      recipient: decodeRecipient(row),
      attempts: row.attempts,
      ...(row.first_attempt_at !== null ? { firstAttemptAt: row.first_attempt_at } : {}),
    }));
  }

  /** The earliest time a recipient becomes due, or undefined when none waits. */
  nextDueAt(): number | undefined {
    return this.nextStmt.get()?.at ?? undefined;
  }

  /** Records one attempt (fsync'd like every commit): its outcome as a value, and when to try again. */
  record(messageId: string, idx: number, outcome: AttemptOutcome, attempted = true): void {
    const at = outcome.status.at;
    this.updateStmt.run({
      state: outcome.state,
      status: JSON.stringify(outcome.status),
      next: outcome.nextAttemptAt ?? 0,
      first: attempted ? at : null,
      attempted: attempted ? 1 : 0,
      id: messageId,
      idx,
    });
  }

  nextIndex(messageId: string): number {
    return (this.maxIdxStmt.get(messageId)?.n ?? -1) + 1;
  }
}
