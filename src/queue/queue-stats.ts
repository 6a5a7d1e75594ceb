import type Database from 'better-sqlite3';
import type { DeliveryStatus } from '../core/index.ts';

/** Messages with a recipient still queued at one priority, and the receipt of the oldest of them. */
export interface QueueDepth {
  readonly priority: number;
  readonly messages: number;
  readonly oldestReceivedAt: number;
}

/** A recipient's final outcome (delivered, failed, redirected), newest first: what the console lists. */
export interface RecentOutcome {
  readonly id: string;
  readonly sender: string;
  readonly priority: number;
  readonly size: number;
  readonly receivedAt: number;
  readonly address: string;
  readonly state: string;
  readonly route: string;
  readonly status: DeliveryStatus | null;
}

/** How many of the newest messages recentOutcomes() looks at: its cost stays the same however long the queue. */
export const RECENT_WINDOW = 2000;

/**
 * Cheap aggregates over the queue for a status page and for metrics scraped every few seconds: each one a
 * single SQL statement, bounded by an index or by the newest RECENT_WINDOW messages, with nothing decoded.
 */
export class QueueStats {
  private readonly s: {
    depth: Database.Statement<[], QueueDepth>;
    recent: Database.Statement<[{ window: number; limit: number }], RecentRow>;
    priority: Database.Statement<[string], { priority: number }>;
  };

  constructor(db: Database.Database) {
    this.s = {
      // Walks the covering list index (priority and received_at are in it) and probes the partial index of queued
      // recipients: no message row is read.
      depth: db.prepare(
        `SELECT priority, count(*) AS messages, min(received_at) AS oldestReceivedAt FROM messages m
         WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'queued') GROUP BY priority`,
      ),
      // The newest messages by rowid (insertion order), a range of the table's own b-tree: a message received
      // long ago whose outcome is recent is only seen while it is among the newest RECENT_WINDOW.
      recent: db.prepare(
        `SELECT m.id, m.sender, m.priority, m.size, m.received_at AS receivedAt, r.address, r.state,
           r.route_kind || CASE WHEN r.route_target = '' THEN '' ELSE ':' || r.route_target END AS route, r.status
         FROM messages m JOIN recipients r ON r.message_id = m.id
         WHERE m.rowid > (SELECT coalesce(max(rowid), 0) FROM messages) - @window
           AND r.state IN ('delivered', 'failed', 'redirected')
         ORDER BY coalesce(CASE WHEN json_valid(r.status) THEN json_extract(r.status, '$.at') END, m.received_at) DESC
         LIMIT @limit`,
      ),
      priority: db.prepare('SELECT priority FROM messages WHERE id = ?'),
    };
  }

  /** Queued messages per priority with the oldest receipt: an aggregate over the queued recipients' index. */
  depthByPriority(): QueueDepth[] {
    return this.s.depth.all();
  }

  /** The newest final outcomes, at most `limit`, among the newest RECENT_WINDOW messages. */
  recentOutcomes(limit = 50): RecentOutcome[] {
    return this.s.recent.all({ window: RECENT_WINDOW, limit: Math.max(0, Math.floor(limit)) }).map((r) => ({ ...r, status: parseStatus(r.status) }));
  }

  /** A message's priority value, or undefined when the queue does not hold it. */
  priorityOf(id: string): number | undefined {
    return this.s.priority.get(id)?.priority;
  }
}

type RecentRow = Omit<RecentOutcome, 'status'> & { status: string | null };

function parseStatus(text: string | null): DeliveryStatus | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' ? (v as DeliveryStatus) : null;
  } catch {
    return null;
  }
}
