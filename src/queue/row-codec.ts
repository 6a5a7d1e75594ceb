import type {
  Deadline,
  DeadlineMode,
  DeliveryStatus,
  MailParams,
  Notify,
  NotifyCondition,
  Priority,
  PrioritySource,
  QueuedMessage,
  Recipient,
  RecipientState,
  RouteKind,
  Submitter,
  TypedAddress,
} from '../core/index.ts';

/**
 * Mapping between the domain values and table rows. Optional fields map to NULL columns or to keys left
 * out of the JSON, and decoding omits them again, so a round trip yields no `undefined`-valued keys.
 * Decoding trusts the enumerations it reads back: only insert(), after validation, writes these tables.
 */

/** Every messages column except content: what list() reads. */
export interface MessageColumns {
  id: string;
  received_at: number;
  sender: string;
  priority: number;
  priority_source: string;
  priority_requested: number | null;
  by_at: number | null;
  by_mode: string | null;
  by_trace: number | null;
  by_seconds: number | null;
  aby_at: number | null;
  aby_mode: string | null;
  aby_trace: number | null;
  aby_seconds: number | null;
  params: string;
  submitter: string;
  size: number;
}

export interface MessageRow extends MessageColumns {
  content: Uint8Array;
}

export interface RecipientRow {
  message_id: string;
  idx: number;
  address: string;
  notify: string | null;
  orcpt_type: string | null;
  orcpt_addr: string | null;
  arcpt_type: string | null;
  arcpt_addr: string | null;
  route_kind: string;
  route_target: string;
  state: string;
  status: string | null;
}

/** The MAIL parameters kept as JSON: those no query looks at. */
type StoredParams = Pick<MailParams, 'envid' | 'ret' | 'body' | 'smtputf8' | 'size'>;

interface DeadlineColumns {
  at: number | null;
  mode: string | null;
  trace: number | null;
  seconds: number | null;
}

function deadlineColumns(d: Deadline | undefined): DeadlineColumns {
  if (d === undefined) return { at: null, mode: null, trace: null, seconds: null };
  // SQLite has no boolean; better-sqlite3 refuses to bind one.
  return { at: d.at, mode: d.mode, trace: d.trace ? 1 : 0, seconds: d.requestedSeconds };
}

function decodeDeadline(c: DeadlineColumns): Deadline | undefined {
  if (c.at === null) return undefined;
  return { at: c.at, mode: c.mode as DeadlineMode, trace: c.trace === 1, requestedSeconds: c.seconds! };
}

export function encodeMessage(msg: QueuedMessage): MessageRow {
  const { params, priority, submitter } = msg;
  const by = deadlineColumns(params.by);
  const aby = deadlineColumns(params.aby);
  // Fields are picked one by one so that stray properties on the caller's objects are not persisted;
  // JSON.stringify drops the undefined ones, which keeps absent keys absent.
  const stored: StoredParams = {
    envid: params.envid,
    ret: params.ret,
    body: params.body,
    smtputf8: params.smtputf8,
    size: params.size,
  };
  const who: Submitter = {
    clientAddress: submitter.clientAddress,
    clientHostname: submitter.clientHostname,
    helo: submitter.helo,
    user: submitter.user,
    trusted: submitter.trusted,
  };
  const c = msg.content;
  return {
    id: msg.id,
    received_at: msg.receivedAt,
    sender: msg.sender,
    priority: priority.value,
    priority_source: priority.source,
    priority_requested: priority.requested ?? null,
    by_at: by.at,
    by_mode: by.mode,
    by_trace: by.trace,
    by_seconds: by.seconds,
    aby_at: aby.at,
    aby_mode: aby.mode,
    aby_trace: aby.trace,
    aby_seconds: aby.seconds,
    params: JSON.stringify(stored),
    submitter: JSON.stringify(who),
    size: c.byteLength,
    // A view over exactly the caller's bytes (honouring byteOffset), without copying them.
    content: Buffer.from(c.buffer, c.byteOffset, c.byteLength),
  };
}

/** A message without content and recipients, from its row. */
export function decodeMessageColumns(row: MessageColumns): Omit<QueuedMessage, 'content' | 'recipients'> {
  const priority: Priority =
    row.priority_requested === null
      ? { value: row.priority, source: row.priority_source as PrioritySource }
      : { value: row.priority, source: row.priority_source as PrioritySource, requested: row.priority_requested };
  const by = decodeDeadline({ at: row.by_at, mode: row.by_mode, trace: row.by_trace, seconds: row.by_seconds });
  const aby = decodeDeadline({ at: row.aby_at, mode: row.aby_mode, trace: row.aby_trace, seconds: row.aby_seconds });
  const params: MailParams = {
    ...(JSON.parse(row.params) as StoredParams),
    ...(by === undefined ? {} : { by }),
    ...(aby === undefined ? {} : { aby }),
  };
  return {
    id: row.id,
    receivedAt: row.received_at,
    sender: row.sender,
    params,
    priority,
    submitter: JSON.parse(row.submitter) as Submitter,
  };
}

function encodeNotify(notify: Notify): string | null {
  if (notify === null || notify === 'NEVER') return notify;
  return notify.join(','); // an empty list becomes '', still distinct from NULL (absent)
}

function decodeNotify(text: string | null): Notify {
  if (text === null || text === 'NEVER') return text;
  return text === '' ? [] : (text.split(',') as NotifyCondition[]);
}

function decodeTypedAddress(type: string | null, address: string | null): TypedAddress | undefined {
  return type === null || address === null ? undefined : { type, address };
}

export function encodeRecipient(messageId: string, idx: number, rcpt: Recipient): RecipientRow {
  const s = rcpt.status;
  const status: DeliveryStatus | undefined =
    s === undefined
      ? undefined
      : { status: s.status, text: s.text, at: s.at, remoteReply: s.remoteReply, remoteMta: s.remoteMta };
  return {
    message_id: messageId,
    idx,
    address: rcpt.address,
    notify: encodeNotify(rcpt.notify),
    orcpt_type: rcpt.orcpt?.type ?? null,
    orcpt_addr: rcpt.orcpt?.address ?? null,
    arcpt_type: rcpt.arcpt?.type ?? null,
    arcpt_addr: rcpt.arcpt?.address ?? null,
    route_kind: rcpt.route.kind,
    route_target: rcpt.route.target,
    state: rcpt.state,
    status: status === undefined ? null : JSON.stringify(status),
  };
}

export function decodeRecipient(row: RecipientRow): Recipient {
  const orcpt = decodeTypedAddress(row.orcpt_type, row.orcpt_addr);
  const arcpt = decodeTypedAddress(row.arcpt_type, row.arcpt_addr);
  return {
    address: row.address,
    notify: decodeNotify(row.notify),
    ...(orcpt === undefined ? {} : { orcpt }),
    ...(arcpt === undefined ? {} : { arcpt }),
    route: { kind: row.route_kind as RouteKind, target: row.route_target },
    state: row.state as RecipientState,
    ...(row.status === null ? {} : { status: JSON.parse(row.status) as DeliveryStatus }),
  };
}
