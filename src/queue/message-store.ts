import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { storageFault, type DeliveryStatus, type QueuedMessage, type Recipient } from '../core/index.ts';
import { LinkState } from './link-state.ts';
import { QueueError, queueStorageError } from './queue-error.ts';
import { migrate } from './schema.ts';
import {
  decodeMessageColumns,
  decodeRecipient,
  encodeMessage,
  encodeRecipient,
  type MessageColumns,
  type MessageRow,
  type RecipientRow,
} from './row-codec.ts';
import { validateMessage } from './validate-message.ts';
import { DeliveryTable, type AttemptOutcome } from './delivery-store.ts';
import { QueueOperator } from './operator.ts';
import { QueueStats } from './queue-stats.ts';

/** A recipient as list() reports it: the same shape as the core Recipient. */
export type QueueSummaryRecipient = Recipient;

/** A queued message without its content, for listing and scheduling; `size` is the content's byte count. */
export interface QueueSummary extends Omit<QueuedMessage, 'content' | 'recipients'> {
  readonly size: number;
  readonly recipients: readonly QueueSummaryRecipient[];
}

export const QUEUE_DB_FILE = 'queue.db';

/** Space kept beside the queue so that it can still open on a disk filled to the last byte (MessageStore.open). */
const RESERVE_FILE = 'queue.reserve';
const RESERVE_BYTES = 1024 * 1024;

/** Puts the reserve back when it is missing and there is room for it; on a full disk it waits for the next open. */
function keepReserve(file: string): void {
  if (existsSync(file)) return;
  try {
    writeFileSync(file, Buffer.alloc(RESERVE_BYTES), { mode: 0o600, flag: 'wx' });
  } catch {
    rmSync(file, { force: true });
  }
}

/** A message waiting for a radio link, without its content: what the link's scheduler needs. */
export interface LinkItemRow {
  id: string;
  priority: number;
  received_at: number;
  size: number;
  by_at: number | null;
  by_mode: string | null;
  aby_at: number | null;
  /** 1 when a recipient still waiting for the link has an alternate (ARCPT). */
  has_arcpt: number;
  made_at: number | null;
}

/** How long a connection waits for another process's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

const MESSAGE_COLUMNS = `id, received_at, sender, priority, priority_source, priority_requested,
  by_at, by_mode, by_trace, by_seconds, aby_at, aby_mode, aby_trace, aby_seconds, params, submitter, size`;

const RECIPIENT_COLUMNS = `message_id, idx, address, notify, orcpt_type, orcpt_addr, arcpt_type, arcpt_addr,
  route_kind, route_target, state, status`;

/** "Not fully done": some recipient still waits for delivery. Every other state is final. */
const HAS_QUEUED_RECIPIENT = `EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'queued')`;

function namedParams(columns: string): string {
  return columns
    .split(',')
    .map((c) => `@${c.trim()}`)
    .join(', ');
}

/**
 * The durable message queue: one SQLite file in WAL mode. insert() returns only once the message is on
 * disk, so the SMTP layer may answer 250 after it. Other processes (the CLI) may open the same directory
 * while the gateway runs; WAL lets them read without blocking the writer.
 */
export class MessageStore {
  private readonly db: Database.Database;
  private readonly insertMessageStmt: Database.Statement<[MessageRow]>;
  private readonly insertRecipientStmt: Database.Statement<[RecipientRow]>;
  private readonly selectMessageStmt: Database.Statement<[string], MessageRow>;
  private readonly selectRecipientsStmt: Database.Statement<[string], RecipientRow>;
  private readonly listMessagesStmt: Database.Statement<[], MessageColumns>;
  private readonly listRecipientsStmt: Database.Statement<[], RecipientRow>;
  private readonly countStmt: Database.Statement<[], { n: number }>;
  private readonly insertTx: (message: MessageRow, recipients: readonly RecipientRow[]) => void;
  private readonly getTx: (id: string) => QueuedMessage | undefined;
  private readonly listTx: () => QueueSummary[];
  private readonly linkDueStmt: Database.Statement<[string], { message_id: string }>;
  private readonly linkItemsStmt: Database.Statement<[string], LinkItemRow>;
  private readonly linkItemStmt: Database.Statement<[string, string], LinkItemRow>;
  private readonly linkListeners: ((peer: string, ids: readonly string[]) => void)[] = [];
  /** New work for each peer from inserts not yet committed (inside an outer transaction): message ids. */
  private readonly linkWork = new Map<string, string[]>();
  private readonly finishLinkStmt: Database.Statement<[string, string, string, string]>;
  /** Delivery attempts: due recipients and their outcomes (the relay's DeliveryStore reads through this). */
  readonly delivery: DeliveryTable;
  /** The radio link's progress and duplicate filter. */
  readonly link: LinkState;
  /** The operator's hold, release, requeue, delete, quarantine and purge (src/queue/operator.ts). */
  readonly operator: QueueOperator;
  /** Aggregates for a status page and metrics: depth per priority, recent outcomes (src/queue/queue-stats.ts). */
  readonly stats: QueueStats;

  static open(dataDir: string): MessageStore {
    // The queue holds people's mail: a folder only its owner enters, files only its owner reads (0700, 0600).
    if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const reserve = join(dataDir, RESERVE_FILE);
    let store: MessageStore;
    try {
      store = MessageStore.openDb(dataDir);
    } catch (err) {
      // A disk filled to the last byte: SQLite cannot even make its WAL and shared-memory files. The space held
      // in reserve for this moment is given up, and the queue opens (and refuses new mail until there is room).
      if (!storageFault(err) || !existsSync(reserve)) throw err;
      rmSync(reserve, { force: true });
      store = MessageStore.openDb(dataDir);
    }
    keepReserve(reserve);
    return store;
  }

  private static openDb(dataDir: string): MessageStore {
    const file = join(dataDir, QUEUE_DB_FILE);
    const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      const store = new MessageStore(db);
      // SQLite creates the database, its WAL and shared-memory files with the process umask (often 0644).
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
      return store;
    } catch (err) {
      db.close();
      throw queueStorageError(err);
    }
  }

  private constructor(db: Database.Database) {
    this.db = db;
    // WAL: readers in other processes never block the writer. The mode is stored in the file.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`queue database refused WAL mode (journal_mode is ${String(mode)})`);
    // FULL makes every commit fsync the WAL: the promise behind answering 250. Per connection.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);

    this.insertMessageStmt = db.prepare<[MessageRow]>(
      `INSERT INTO messages (${MESSAGE_COLUMNS}, content) VALUES (${namedParams(MESSAGE_COLUMNS)}, @content)`,
    );
    this.insertRecipientStmt = db.prepare<[RecipientRow]>(
      `INSERT INTO recipients (${RECIPIENT_COLUMNS}) VALUES (${namedParams(RECIPIENT_COLUMNS)})`,
    );
    this.selectMessageStmt = db.prepare<[string], MessageRow>(`SELECT ${MESSAGE_COLUMNS}, content FROM messages WHERE id = ?`);
    this.selectRecipientsStmt = db.prepare<[string], RecipientRow>(
      `SELECT ${RECIPIENT_COLUMNS} FROM recipients WHERE message_id = ? ORDER BY idx`,
    );
    // The ORDER BY matches the messages_list_order index term for term, so SQLite walks it without sorting.
    this.listMessagesStmt = db.prepare<[], MessageColumns>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE ${HAS_QUEUED_RECIPIENT}
       ORDER BY priority DESC, deadline_at IS NULL, deadline_at, size, received_at, id`,
    );
    this.listRecipientsStmt = db.prepare<[], RecipientRow>(
      `SELECT ${RECIPIENT_COLUMNS} FROM recipients
       WHERE message_id IN (SELECT message_id FROM recipients WHERE state = 'queued')
       ORDER BY message_id, idx`,
    );
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM messages');
    this.delivery = new DeliveryTable(db, RECIPIENT_COLUMNS);
    this.link = new LinkState(db);
    this.operator = new QueueOperator(db);
    this.stats = new QueueStats(db);
    this.linkDueStmt = db.prepare<[string], { message_id: string }>(
      `SELECT DISTINCT message_id FROM recipients WHERE state = 'queued' AND route_kind = 'link' AND route_target = ?`,
    );
    // One row per message waiting for the peer, without its content: what the link's scheduler needs.
    const linkItems = (where: string) =>
      `SELECT m.id, m.priority, m.received_at, m.size, m.by_at, m.by_mode, m.aby_at,
         max(r.arcpt_addr IS NOT NULL) AS has_arcpt, lb.made_at
       FROM recipients r JOIN messages m ON m.id = r.message_id
       LEFT JOIN link_bundles lb ON lb.peer = r.route_target AND lb.id = m.id
       WHERE ${where} r.state = 'queued' AND r.route_kind = 'link' AND r.route_target = ?
       GROUP BY m.id`;
    this.linkItemsStmt = db.prepare<[string], LinkItemRow>(linkItems(''));
    this.linkItemStmt = db.prepare<[string, string], LinkItemRow>(linkItems('r.message_id = ? AND'));
    this.finishLinkStmt = db.prepare(`UPDATE recipients SET state = ?, status = ? WHERE message_id = ? AND route_kind = 'link' AND route_target = ? AND state = 'queued'`);

    this.insertTx = db.transaction((message: MessageRow, recipients: readonly RecipientRow[]) => {
      this.insertMessageStmt.run(message);
      for (const r of recipients) this.insertRecipientStmt.run(r);
    });
    // Message and recipients are read in one transaction, so they come from one snapshot.
    this.getTx = db.transaction((id: string) => {
      const row = this.selectMessageStmt.get(id);
      if (row === undefined) return undefined;
      const recipients = this.selectRecipientsStmt.all(id).map(decodeRecipient);
      return { ...decodeMessageColumns(row), recipients, content: row.content };
    });
    // Likewise one read transaction, so messages and recipients come from the same snapshot even while the gateway
    // commits between the two queries.
    this.listTx = db.transaction(() => {
      const byMessage = new Map<string, Recipient[]>();
      for (const row of this.listRecipientsStmt.iterate()) {
        let list = byMessage.get(row.message_id);
        if (list === undefined) byMessage.set(row.message_id, (list = []));
        list.push(decodeRecipient(row));
      }
      return this.listMessagesStmt.all().map((row) => ({
        ...decodeMessageColumns(row),
        size: row.size,
        recipients: byMessage.get(row.id) ?? [],
      }));
    });
  }

  /**
   * Stores a message and all its recipients in one transaction. When this returns the commit has been
   * fsync'd; when it throws nothing of the message is stored.
   */
  insert(msg: QueuedMessage): void {
    validateMessage(msg);
    const row = encodeMessage(msg);
    const recipients = msg.recipients.map((r, i) => encodeRecipient(msg.id, i, r));
    try {
      this.insertTx(row, recipients);
      for (const peer of new Set(msg.recipients.filter((r) => r.state === 'queued' && r.route.kind === 'link').map((r) => r.route.target)))
        if (this.linkWork.has(peer)) this.linkWork.get(peer)!.push(msg.id);
        else this.linkWork.set(peer, [msg.id]);
      this.flushLinkWork();
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new QueueError('duplicate-id', `message ${msg.id} is already queued`, { cause: err });
      }
      throw queueStorageError(err);
    }
  }

  /** The message as inserted; content is a Buffer holding the stored bytes. */
  get(id: string): QueuedMessage | undefined {
    return this.getTx(id);
  }

  /**
   * Every message with a recipient still queued, in the order they should go out: highest priority, then
   * earliest deadline (BY or ABY, whichever is sooner; none comes last), then smallest, then oldest, then id.
   */
  list(): QueueSummary[] {
    return this.listTx();
  }

  /** How many messages the store holds, finished ones included (list() shows only unfinished ones). */
  count(): number {
    return this.countStmt.get()!.n;
  }

  /**
   * Runs `fn` in one transaction (nested calls join it): outcomes and the DSNs or copies they cause commit
   * together or not at all. Listeners hear of new link work only once the outermost transaction has committed.
   */
  transaction<T>(fn: () => T): T {
    const outer = !this.db.inTransaction;
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      if (outer) this.linkWork.clear();
      throw outer ? queueStorageError(err) : err;
    } finally {
      if (outer) this.flushLinkWork();
    }
  }

  /** Called (after the commit) with each peer that inserted messages wait for, and their ids. */
  onLinkWork(listener: (peer: string, ids: readonly string[]) => void): void {
    this.linkListeners.push(listener);
  }

  private flushLinkWork(): void {
    if (this.db.inTransaction || this.linkWork.size === 0) return;
    const work = [...this.linkWork];
    this.linkWork.clear();
    for (const [peer, ids] of work) for (const l of this.linkListeners) l(peer, ids);
  }

  /**
   * A message handed over by the radio link's `peer`, stored in one transaction with the note that this peer
   * handed it over (duplicate suppression is per peer). 'taken-before': this peer handed it over already (its
   * custody confirmation was lost): nothing changes. 'loop': the id is here, but did not come from this peer:
   * the message has passed this station before.
   */
  takeFromLink(peer: string, msg: QueuedMessage, now: number): 'taken' | 'taken-before' | 'loop' {
    // A full disk comes out as QueueError 'disk-full' (transaction()): the link refuses the bundle for now (4.3.1).
    return this.transaction(() => {
      if (this.link.isDelivered(peer, msg.id)) return 'taken-before';
      if (this.selectMessageStmt.get(msg.id) !== undefined) return 'loop';
      this.insert(msg);
      this.link.markDelivered(peer, msg.id, now);
      return 'taken';
    });
  }

  /**
   * The store as the relay's DeliveryStore (relay/contracts.ts, satisfied structurally: the queue does not import
   * the relay): due work, outcomes, the messages the relay makes, and transactions around them.
   */
  deliveryView() {
    return {
      due: (now: number) => this.delivery.due(now),
      nextDueAt: () => this.delivery.nextDueAt(),
      record: (id: string, idx: number, outcome: AttemptOutcome, attempted?: boolean) => this.delivery.record(id, idx, outcome, attempted),
      get: (id: string) => this.get(id),
      insert: (m: QueuedMessage) => this.insert(m),
      transaction: <T>(fn: () => T): T => this.transaction(fn),
      forgetLink: (peer: string, id: string) => this.forgetLink(peer, id),
    };
  }

  /** The radio link is done with a message's transfer to `peer`: its stored bundle and progress go. */
  forgetLink(peer: string, id: string): void {
    this.link.forget(peer, id);
  }

  /** What waits for the radio link to `peer`, one light row per message (no content). */
  linkItems(peer: string): LinkItemRow[] {
    return this.linkItemsStmt.all(peer);
  }

  /** The same rows for the given messages only (those of them that wait for `peer`). */
  linkItemsById(peer: string, ids: readonly string[]): LinkItemRow[] {
    return ids.flatMap((id) => this.linkItemStmt.all(id, peer));
  }

  /** Messages with recipients waiting for the radio link to `peer`. */
  linkPending(peer: string): string[] {
    return this.linkDueStmt.all(peer).map((r) => r.message_id);
  }

  /** The link is done with a message: custody taken by the peer, or withdrawn. */
  finishLink(id: string, peer: string, state: 'delivered' | 'failed', status: DeliveryStatus): void {
    this.finishLinkStmt.run(state, JSON.stringify(status), id, peer);
  }

  close(): void {
    this.db.close();
  }
}
