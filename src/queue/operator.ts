import type Database from 'better-sqlite3';
import type { DeliveryStatus, QueuedMessage, Recipient, RecipientState } from '../core/index.ts';
import { domainOf } from '../mail/index.ts';
import { QueueError } from './queue-error.ts';
import { decodeMessageColumns, decodeRecipient, type MessageColumns, type RecipientRow } from './row-codec.ts';
import { validateMessage } from './validate-message.ts';

/**
 * The operator's hand on the queue: hold, release, requeue and delete (one message or a selection), the
 * quarantine of stored messages that cannot be decoded, the purge of finished ones, and a listing that shows
 * held and corrupt messages with their reason. Every operation is one transaction.
 *
 * `held` and `corrupt` are recipient states. Neither is due for the relay nor pending for a radio link (those
 * select state = 'queued'). The recipient's status says why (what `hfmail queue` prints) and carries, under
 * `hold` or `quarantine`, the state it returns to and the delivery status it had before.
 */

/** The states an operator selects by. */
export type OperatorState = 'queued' | 'held' | 'corrupt';
export const OPERATOR_STATES: readonly OperatorState[] = ['queued', 'held', 'corrupt'];

/** `--all` with filters: recipients in this state, and/or of this domain (".example.org" also matches subdomains). */
export interface Selection {
  readonly state?: OperatorState;
  readonly domain?: string;
}

/** A message id, or a selection. */
export type Target = string | Selection;

export interface HoldInfo {
  readonly by: 'operator' | 'auto';
  readonly reason: string;
  /** The state a release puts the recipient back in. */
  readonly returnTo: 'queued';
  /** The delivery status before the hold (the last attempt's), restored by a release. */
  readonly previous?: DeliveryStatus;
}

export interface QuarantineInfo {
  /** Why the stored message cannot be decoded. */
  readonly error: string;
  /** The state the recipient was in. */
  readonly returnTo: string;
  readonly previous?: unknown;
}

/** A recipient's status while held or corrupt: a DeliveryStatus with the hold's or quarantine's details. */
export interface OperatorStatus extends DeliveryStatus {
  readonly hold?: HoldInfo;
  readonly quarantine?: QuarantineInfo;
}

export interface ChangedMessage {
  readonly id: string;
  /** The addresses whose state changed. */
  readonly recipients: readonly string[];
}

export interface OperationResult {
  readonly changed: readonly ChangedMessage[];
  /** Messages of a selection left alone, and why. */
  readonly skipped: readonly { readonly id: string; readonly why: string }[];
}

export interface RemovedMessage {
  readonly id: string;
  readonly size: number;
  readonly recipients: readonly { readonly address: string; readonly state: string }[];
  readonly linkBundles: number;
  readonly linkReceived: number;
}

export interface DeleteResult {
  readonly removed: readonly RemovedMessage[];
  readonly skipped: readonly { readonly id: string; readonly why: string }[];
}

export interface PurgeResult {
  readonly purged: number;
  /** More finished messages wait: the batch limit stopped the purge. */
  readonly more: boolean;
}

/** A message as the operator's listing shows it; `problem` says why a corrupt one could not be decoded. */
export interface OperatorSummary extends Omit<QueuedMessage, 'content' | 'recipients'> {
  /** The content's byte count. */
  readonly size: number;
  readonly recipients: readonly Recipient[];
  readonly problem?: string;
}

const FINAL = `('delivered', 'failed', 'redirected')`;

const MESSAGE_COLUMNS = `id, received_at, sender, priority, priority_source, priority_requested,
  by_at, by_mode, by_trace, by_seconds, aby_at, aby_mode, aby_trace, aby_seconds, params, submitter, size`;

type Row = RecipientRow & { attempts: number };

const HOLD_STATUS = '4.0.0';
const QUARANTINE_STATUS = '4.3.0';

export class QueueOperator {
  private readonly s: {
    message: Database.Statement<[string], MessageColumns>;
    recipients: Database.Statement<[string], Row>;
    unfinished: Database.Statement<[], Row>;
    setState: Database.Statement<[string, string | null, string, number]>;
    release: Database.Statement<[string | null, number, string, number]>;
    requeue: Database.Statement<[string | null, number, string, number]>;
    delBundles: Database.Statement<[string]>;
    delReceived: Database.Statement<[string]>;
    delRecipients: Database.Statement<[string]>;
    delMessage: Database.Statement<[string]>;
    suspects: Database.Statement<[string, number], MessageColumns>;
    purgeable: Database.Statement<[{ cutoff: number; batch: number }], { id: string }>;
    listMessages: Database.Statement<[number, number], MessageColumns>;
    queuedByPriority: Database.Statement<[], { priority: number; n: number }>;
    unfinishedCount: Database.Statement<[], { n: number }>;
  };

  constructor(private readonly db: Database.Database) {
    const rcols = `message_id, idx, address, notify, orcpt_type, orcpt_addr, arcpt_type, arcpt_addr, route_kind, route_target, state, status`;
    const unfinished = `EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state NOT IN ${FINAL})`;
    this.s = {
      message: db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`),
      recipients: db.prepare(`SELECT ${rcols}, attempts FROM recipients WHERE message_id = ? ORDER BY idx`),
      unfinished: db.prepare(`SELECT ${rcols}, attempts FROM recipients WHERE state NOT IN ${FINAL} ORDER BY message_id, idx`),
      setState: db.prepare('UPDATE recipients SET state = ?, status = ? WHERE message_id = ? AND idx = ?'),
      release: db.prepare(`UPDATE recipients SET state = 'queued', status = ?, next_attempt_at = ? WHERE message_id = ? AND idx = ?`),
      requeue: db.prepare(
        `UPDATE recipients SET state = 'queued', status = ?, next_attempt_at = ?, attempts = 0, first_attempt_at = NULL WHERE message_id = ? AND idx = ?`,
      ),
      delBundles: db.prepare('DELETE FROM link_bundles WHERE id = ?'),
      delReceived: db.prepare('DELETE FROM link_received WHERE id = ?'),
      delRecipients: db.prepare('DELETE FROM recipients WHERE message_id = ?'),
      delMessage: db.prepare('DELETE FROM messages WHERE id = ?'),
      // Messages a relay or a link could still pick up: the ones a decoding failure must be found in.
      // A page of them, by id after the last one seen: a scan of a long queue holds one page at a time.
      suspects: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m
         WHERE m.id > ? AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state NOT IN ${FINAL} AND r.state <> 'corrupt')
         ORDER BY m.id LIMIT ?`,
      ),
      // Finished: every recipient final, the last outcome (or the receipt) older than the cut-off. A status that
      // is not JSON, or whose time is not a number, keeps the message (text sorts after every integer).
      purgeable: db.prepare(
        `SELECT m.id FROM messages m
         WHERE m.received_at < @cutoff
           AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id)
           AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND (r.state NOT IN ${FINAL}
                 OR coalesce(CASE WHEN json_valid(r.status) THEN json_extract(r.status, '$.at') END, 0) >= @cutoff))
         LIMIT @batch`,
      ),
      // list(), in the order the messages_list_order index walks (LIMIT -1 is all of them).
      listMessages: db.prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE ${unfinished}
         ORDER BY priority DESC, deadline_at IS NULL, deadline_at, size, received_at, id LIMIT ? OFFSET ?`,
      ),
      unfinishedCount: db.prepare(`SELECT count(DISTINCT message_id) AS n FROM recipients WHERE state NOT IN ${FINAL}`),
      queuedByPriority: db.prepare(
        // Walks the covering list index and probes the partial index of queued recipients: no message row is read
        // (30 ms at 100,000 queued, against 260 ms for the IN form, which fetches every row).
        `SELECT priority, count(*) AS n FROM messages m
         WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = 'queued') GROUP BY priority`,
      ),
    };
  }

  /** Holds queued recipients: not due, not offered to a link, until released. Returns what changed. */
  hold(target: Target, reason: string, now: number, by: HoldInfo['by'] = 'operator'): OperationResult {
    if (typeof target !== 'string' && target.state !== undefined && target.state !== 'queued') {
      throw new QueueError('bad-selection', `only queued recipients can be held, not ${target.state} ones`);
    }
    const text = by === 'operator' ? `held by the operator${reason ? `: ${reason}` : ''}` : `held: ${reason || 'automatically'}`;
    return this.tx(() =>
      this.apply(target, (r) => r.state === 'queued', (r) => {
        const previous = parseStatus(r.status);
        const hold: HoldInfo = { by, reason, returnTo: 'queued', ...(previous ? { previous: deliveryStatus(previous) } : {}) };
        const status: OperatorStatus = { status: HOLD_STATUS, text, at: now, hold };
        this.s.setState.run('held', JSON.stringify(status), r.message_id, r.idx);
      }),
    );
  }

  /**
   * Puts held recipients back in the queue, due now (their attempt count kept). A corrupt one goes back only if
   * its message decodes now (after a repair); otherwise an id is an error and a selection skips it.
   */
  release(target: Target, now: number): OperationResult {
    if (typeof target !== 'string' && target.state === 'queued') {
      throw new QueueError('bad-selection', 'only held or corrupt recipients can be released, not queued ones');
    }
    return this.tx(() =>
      this.apply(
        target,
        (r) => r.state === 'held' || r.state === 'corrupt',
        (r) => this.s.release.run(statusBefore(r.status), now, r.message_id, r.idx),
        (id, rows) => this.checkRelease(id, rows),
      ),
    );
  }

  /** Queued and held recipients due now, attempts and the give-up clock started afresh. */
  requeue(target: Target, now: number): OperationResult {
    if (typeof target !== 'string' && target.state === 'corrupt') {
      throw new QueueError('bad-selection', 'corrupt recipients cannot be requeued; release one after repairing it, or delete it');
    }
    return this.tx(() =>
      this.apply(target, (r) => r.state === 'queued' || r.state === 'held', (r) => this.s.requeue.run(statusBefore(r.status), now, r.message_id, r.idx)),
    );
  }

  /**
   * Removes messages with their recipients, stored bundles and received pieces. The link's record of what it
   * took (link_delivered) stays: a peer that offers the message again is told it was taken. An id removes its
   * message whatever its state; a selection removes messages whose unfinished recipients all match it.
   */
  delete(target: Target): DeleteResult {
    return this.tx(() => {
      const removed: RemovedMessage[] = [];
      const skipped: { id: string; why: string }[] = [];
      if (typeof target === 'string') {
        removed.push(this.remove(target));
        return { removed, skipped };
      }
      checkDomain(target);
      for (const [id, rows] of groupById(this.s.unfinished.all())) {
        const hits = rows.filter((r) => matches(r, target));
        if (!hits.length) continue;
        if (hits.length < rows.length) {
          skipped.push({ id, why: `it also has recipients outside the selection (${rows.filter((r) => !matches(r, target)).map((r) => `<${r.address}> ${r.state}`).join(', ')})` });
          continue;
        }
        removed.push(this.remove(id));
      }
      return { removed, skipped };
    });
  }

  /**
   * Finds stored messages that cannot be decoded (the row codec or validation fails) among those a relay or a
   * link could pick up, and quarantines them: their unfinished recipients become corrupt. Returns their ids.
   */
  quarantine(now: number): { id: string; error: string }[] {
    const found: { id: string; error: string }[] = [];
    for (let page = this.quarantinePage(now, ''); ; page = this.quarantinePage(now, page.next!)) {
      found.push(...page.found);
      if (page.next === undefined) return found;
    }
  }

  /**
   * quarantine() for one page of messages (ids after `after`, in id order): `next` is where the next page starts,
   * undefined after the last. The gateway scans a long queue a page per turn of the event loop.
   */
  quarantinePage(now: number, after: string, pageSize = 500): { found: { id: string; error: string }[]; next?: string } {
    const rows = this.s.suspects.all(after, pageSize);
    const next = rows.length === pageSize ? rows[rows.length - 1]!.id : undefined;
    const bad = (candidates: readonly MessageColumns[]): { id: string; error: string }[] => {
      const out: { id: string; error: string }[] = [];
      for (const row of candidates) {
        const error = this.decodeError(row, this.s.recipients.all(row.id));
        if (error !== undefined) out.push({ id: row.id, error });
      }
      return out;
    };
    const suspects = bad(rows);
    if (!suspects.length) return { found: [], ...(next !== undefined ? { next } : {}) }; // the common case takes no write lock
    const found = this.tx(() => {
      // Again under the lock: another process may have repaired or removed one meanwhile.
      const again = bad(suspects.map((f) => this.s.message.get(f.id)).filter((r): r is MessageColumns => r !== undefined));
      for (const { id, error } of again) {
        for (const r of this.s.recipients.all(id)) {
          if (isFinal(r.state) || r.state === 'corrupt') continue;
          const previous = parseStatus(r.status) ?? (r.status === null ? undefined : r.status);
          const quarantine: QuarantineInfo = { error, returnTo: r.state, ...(previous !== undefined ? { previous } : {}) };
          const status: OperatorStatus = { status: QUARANTINE_STATUS, text: `quarantined: the stored message cannot be decoded (${error})`, at: now, quarantine };
          this.s.setState.run('corrupt', JSON.stringify(status), id, r.idx);
        }
      }
      return again;
    });
    return { found, ...(next !== undefined ? { next } : {}) };
  }

  /**
   * Deletes finished messages (every recipient delivered, failed or redirected) whose last outcome is older than
   * `olderThanMs`, `batchSize` per transaction, at most `maxBatches` batches. Held, queued and corrupt messages
   * stay; so do the link's records of what it took, which duplicate suppression needs.
   */
  purgeFinished(olderThanMs: number, now: number, opts: { batchSize?: number; maxBatches?: number } = {}): PurgeResult {
    const batch = opts.batchSize ?? 500;
    const maxBatches = opts.maxBatches ?? Infinity;
    const cutoff = now - olderThanMs;
    let purged = 0;
    for (let n = 0; n < maxBatches; n++) {
      const ids = this.tx(() => {
        const found = this.s.purgeable.all({ cutoff, batch }).map((r) => r.id);
        for (const id of found) this.drop(id);
        return found;
      });
      purged += ids.length;
      if (ids.length < batch) return { purged, more: false };
    }
    return { purged, more: true };
  }

  /**
   * Every message with a recipient not yet final (queued, held or corrupt), in list() order. One that cannot be
   * decoded is shown as far as it can be, with `problem` saying why; the listing itself never fails on it.
   */
  list(): OperatorSummary[] {
    return [...this.iterate()];
  }

  /**
   * list() one message at a time, at most `limit` of them: memory stays flat however long the queue (`hfmail
   * queue --json` streams it). One read transaction, so the whole listing comes from one snapshot, no lock taken.
   */
  *iterate(limit = Infinity): Generator<OperatorSummary> {
    if (limit <= 0) return;
    const own = !this.db.inTransaction;
    if (own) this.db.exec('BEGIN');
    try {
      // One pass of the index; the recipients of each message are read as it comes (a second statement may run
      // while this one iterates). Returning early closes the iteration before the transaction ends.
      for (const row of this.s.listMessages.iterate(Number.isFinite(limit) ? limit : -1, 0)) yield this.summary(row);
    } finally {
      if (own) this.db.exec('COMMIT');
    }
  }

  /** How many messages list() gives: an aggregate, nothing decoded. */
  unfinishedCount(): number {
    return this.s.unfinishedCount.get()!.n;
  }

  /** How many messages have a recipient still queued, per priority value: an aggregate, nothing decoded. */
  queuedByPriority(): Map<number, number> {
    return new Map(this.s.queuedByPriority.all().map((r) => [r.priority, r.n]));
  }

  private summary(row: MessageColumns): OperatorSummary {
    const rows = this.s.recipients.all(row.id);
    const problem = this.decodeError(row, rows);
    if (problem === undefined) return { ...decodeMessageColumns(row), size: row.size, recipients: rows.map(decodeRecipient) };
    return { ...lenientMessage(row), size: row.size, recipients: rows.map(lenientRecipient), problem };
  }

  /** Whether the queue holds a message with this id. */
  has(id: string): boolean {
    return this.s.message.get(id) !== undefined;
  }

  /** Changes whenever another connection (another process) committed to the database: a cheap poll. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private tx<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock at once, so a read-then-write cannot fail halfway on a busy database.
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }

  /**
   * Runs `change` on each recipient of the target that `applies` to; `check` may refuse a message (an Error
   * for an id, a skip for a selection).
   */
  private apply(target: Target, applies: (r: Row) => boolean, change: (r: Row) => void, check?: (id: string, rows: Row[]) => string | undefined): OperationResult {
    const changed: ChangedMessage[] = [];
    const skipped: { id: string; why: string }[] = [];
    let groups: [string, Row[]][];
    if (typeof target === 'string') {
      if (!this.has(target)) throw new QueueError('unknown-id', `no message ${target} in the queue`);
      groups = [[target, this.s.recipients.all(target).filter(applies)]];
    } else {
      checkDomain(target);
      groups = [...groupById(this.s.unfinished.all())].map(([id, rows]) => [id, rows.filter((r) => applies(r) && matches(r, target))]);
    }
    for (const [id, rows] of groups) {
      if (!rows.length) continue;
      const why = check?.(id, rows);
      if (why !== undefined) {
        if (typeof target === 'string') throw new QueueError('corrupt-message', `message ${id} ${why}`);
        skipped.push({ id, why });
        continue;
      }
      for (const r of rows) change(r);
      changed.push({ id, recipients: rows.map((r) => r.address) });
    }
    return { changed, skipped };
  }

  /** Refuses to release a corrupt recipient whose message still cannot be decoded. */
  private checkRelease(id: string, rows: Row[]): string | undefined {
    if (!rows.some((r) => r.state === 'corrupt')) return undefined;
    const row = this.s.message.get(id)!;
    const releasing = new Set(rows.map((r) => r.idx));
    // As the message would be after the release: the released recipients queued again with their old status.
    const after = this.s.recipients.all(id).map((r) => (releasing.has(r.idx) ? { ...r, state: 'queued', status: statusBefore(r.status) } : r));
    const error = this.decodeError(row, after);
    return error === undefined ? undefined : `still cannot be decoded (${error}); repair it or delete it`;
  }

  /** Undefined when the message decodes and validates; otherwise why not. */
  private decodeError(row: MessageColumns, recipients: readonly RecipientRow[]): string | undefined {
    try {
      // The content is not read: its length is checked by the table, and it is bytes whatever they are.
      const msg: QueuedMessage = { ...decodeMessageColumns(row), recipients: recipients.map(decodeRecipient), content: new Uint8Array(0) };
      validateMessage(msg);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private remove(id: string): RemovedMessage {
    const row = this.s.message.get(id);
    if (row === undefined) throw new QueueError('unknown-id', `no message ${id} in the queue`);
    const recipients = this.s.recipients.all(id).map((r) => ({ address: r.address, state: r.state }));
    const { bundles, received } = this.drop(id);
    return { id, size: row.size, recipients, linkBundles: bundles, linkReceived: received };
  }

  private drop(id: string): { bundles: number; received: number } {
    const bundles = this.s.delBundles.run(id).changes;
    const received = this.s.delReceived.run(id).changes;
    this.s.delRecipients.run(id);
    this.s.delMessage.run(id);
    return { bundles, received };
  }
}

function isFinal(state: string): boolean {
  return state === 'delivered' || state === 'failed' || state === 'redirected';
}

function matches(r: RecipientRow, sel: Selection): boolean {
  if (sel.state !== undefined && r.state !== sel.state) return false;
  if (sel.domain === undefined) return true;
  const want = sel.domain.toLowerCase();
  const domain = domainOf(r.address);
  return domain === want || (want.startsWith('.') && domain.endsWith(want));
}

function checkDomain(sel: Selection): void {
  if (sel.domain !== undefined && sel.domain.replace(/^\./, '') === '') throw new QueueError('bad-selection', 'the domain is empty');
}

function groupById<R extends { message_id: string }>(rows: readonly R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of rows) {
    let list = out.get(r.message_id);
    if (list === undefined) out.set(r.message_id, (list = []));
    list.push(r);
  }
  return out;
}

function parseStatus(text: string | null): OperatorStatus | undefined {
  return text === null ? undefined : (jsonObject(text) as OperatorStatus | undefined);
}

/** The DeliveryStatus fields alone. */
function deliveryStatus(s: OperatorStatus): DeliveryStatus {
  const { hold: _hold, quarantine: _quarantine, ...rest } = s;
  return rest;
}

/** The delivery status a recipient had before any hold or quarantine, as JSON (NULL when it had none). */
function statusBefore(text: string | null): string | null {
  let s = parseStatus(text);
  for (let depth = 0; s !== undefined && depth < 8; depth++) {
    if (s.hold) s = asObject(s.hold.previous);
    else if (s.quarantine) s = asObject(s.quarantine.previous);
    else return JSON.stringify(s);
  }
  return null;
}

function asObject(v: unknown): OperatorStatus | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as OperatorStatus) : undefined;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A message that failed to decode, as far as its columns can be read: for showing, never for delivering. */
function lenientMessage(row: MessageColumns): Omit<QueuedMessage, 'content' | 'recipients'> {
  const params = jsonObject(row.params);
  const submitter = jsonObject(row.submitter);
  const safe = {
    ...row,
    params: JSON.stringify({ ...params, smtputf8: params?.['smtputf8'] === true }),
    submitter: JSON.stringify({
      clientAddress: String(submitter?.['clientAddress'] ?? ''),
      clientHostname: String(submitter?.['clientHostname'] ?? ''),
      helo: String(submitter?.['helo'] ?? ''),
      ...(typeof submitter?.['user'] === 'string' ? { user: submitter['user'] } : {}),
      trusted: submitter?.['trusted'] === true,
    }),
  };
  return decodeMessageColumns(safe);
}

function lenientRecipient(row: RecipientRow): ReturnType<typeof decodeRecipient> {
  const status = parseStatus(row.status);
  return decodeRecipient({ ...row, state: row.state as RecipientState, status: status ? row.status : null });
}
