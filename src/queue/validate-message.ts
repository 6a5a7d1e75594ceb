import {
  MAX_PRIORITY,
  MIN_PRIORITY,
  type Deadline,
  type DeliveryStatus,
  type Notify,
  type NotifyCondition,
  type PrioritySource,
  type QueuedMessage,
  type Recipient,
  type RecipientState,
  type RouteKind,
  type TypedAddress,
} from '../core/index.ts';
import { QueueError } from './queue-error.ts';

// Records rather than arrays so that a value added to a core union is a compile error here until the
// queue knows about it.
const PRIORITY_SOURCES: Record<PrioritySource, true> = {
  'mt-priority': true,
  'draft-priority': true,
  header: true,
  policy: true,
};
const NOTIFY_CONDITIONS: Record<NotifyCondition, true> = { SUCCESS: true, FAILURE: true, DELAY: true };
const ROUTE_KINDS: Record<RouteKind, true> = { maildir: true, lmtp: true, smtp: true, mx: true, link: true };
const RECIPIENT_STATES: Record<RecipientState, true> = {
  queued: true,
  delivered: true,
  failed: true,
  redirected: true,
  held: true,
  corrupt: true,
};

function invalid(detail: string): never {
  throw new QueueError('invalid-message', detail);
}

function isKey<K extends string>(table: Record<K, true>, value: unknown): value is K {
  return typeof value === 'string' && Object.hasOwn(table, value);
}

// A lone surrogate would be stored as U+FFFD in a TEXT column: not the string we were given.
const LONE_SURROGATE = /\p{Cs}/u;

function requireString(value: unknown, what: string): void {
  if (typeof value !== 'string') invalid(`${what} must be a string`);
  if (LONE_SURROGATE.test(value)) invalid(`${what} is not well-formed Unicode (lone surrogate)`);
}

function requireOptionalString(value: unknown, what: string): void {
  if (value !== undefined) requireString(value, what);
}

/** Numbers land in INTEGER columns and must come back unchanged, so only safe integers are accepted. */
function requireInteger(value: unknown, what: string): void {
  if (!Number.isSafeInteger(value)) invalid(`${what} must be a safe integer, got ${String(value)}`);
}

function checkDeadline(deadline: Deadline | undefined, what: string): void {
  if (deadline === undefined) return;
  requireInteger(deadline.at, `${what}.at`);
  if (deadline.mode !== 'R' && deadline.mode !== 'N') invalid(`${what}.mode must be R or N`);
  if (typeof deadline.trace !== 'boolean') invalid(`${what}.trace must be a boolean`);
  requireInteger(deadline.requestedSeconds, `${what}.requestedSeconds`);
}

function checkTypedAddress(value: TypedAddress | undefined, what: string): void {
  if (value === undefined) return;
  requireString(value.type, `${what}.type`);
  requireString(value.address, `${what}.address`);
}

function checkNotify(notify: Notify, what: string): void {
  if (notify === null || notify === 'NEVER') return;
  if (!Array.isArray(notify)) invalid(`${what} must be null, 'NEVER' or a list of conditions`);
  for (const condition of notify) {
    if (!isKey(NOTIFY_CONDITIONS, condition)) invalid(`${what} has unknown condition ${String(condition)}`);
  }
}

function checkStatus(status: DeliveryStatus | undefined, what: string): void {
  if (status === undefined) return;
  requireString(status.status, `${what}.status`);
  requireString(status.text, `${what}.text`);
  requireInteger(status.at, `${what}.at`);
  requireOptionalString(status.remoteReply, `${what}.remoteReply`);
  requireOptionalString(status.remoteMta, `${what}.remoteMta`);
}

function checkRecipient(rcpt: Recipient, what: string): void {
  requireString(rcpt.address, `${what}.address`);
  if (rcpt.address === '') invalid(`${what}.address is empty`);
  checkNotify(rcpt.notify, `${what}.notify`);
  checkTypedAddress(rcpt.orcpt, `${what}.orcpt`);
  checkTypedAddress(rcpt.arcpt, `${what}.arcpt`);
  if (!isKey(ROUTE_KINDS, rcpt.route.kind)) invalid(`${what}.route.kind is not a known route kind`);
  requireString(rcpt.route.target, `${what}.route.target`);
  if (!isKey(RECIPIENT_STATES, rcpt.state)) invalid(`${what}.state is not a known state`);
  checkStatus(rcpt.status, `${what}.status`);
}

/**
 * Refuses a message the store could not give back exactly, or one no later stage could act on. The types
 * already say most of this; the checks are for values that arrive through `as` casts or plain JavaScript,
 * because a bad row found at delivery time is far costlier than a refused insert.
 */
export function validateMessage(msg: QueuedMessage): void {
  requireString(msg.id, 'id');
  if (msg.id === '') invalid('id is empty');
  requireInteger(msg.receivedAt, 'receivedAt');
  requireString(msg.sender, 'sender');

  const { priority, params, submitter } = msg;
  requireInteger(priority.value, 'priority.value');
  if (priority.value < MIN_PRIORITY || priority.value > MAX_PRIORITY) invalid('priority.value outside -9..9');
  if (!isKey(PRIORITY_SOURCES, priority.source)) invalid('priority.source is not a known source');
  if (priority.requested !== undefined) requireInteger(priority.requested, 'priority.requested');

  requireOptionalString(params.envid, 'params.envid');
  if (params.ret !== undefined && params.ret !== 'FULL' && params.ret !== 'HDRS') invalid('params.ret');
  if (params.body !== undefined && params.body !== '7BIT' && params.body !== '8BITMIME') invalid('params.body');
  if (typeof params.smtputf8 !== 'boolean') invalid('params.smtputf8 must be a boolean');
  if (params.size !== undefined) requireInteger(params.size, 'params.size');
  checkDeadline(params.by, 'params.by');
  checkDeadline(params.aby, 'params.aby');

  requireString(submitter.clientAddress, 'submitter.clientAddress');
  requireString(submitter.clientHostname, 'submitter.clientHostname');
  requireString(submitter.helo, 'submitter.helo');
  requireOptionalString(submitter.user, 'submitter.user');
  if (typeof submitter.trusted !== 'boolean') invalid('submitter.trusted must be a boolean');

  if (!Array.isArray(msg.recipients) || msg.recipients.length === 0) invalid('a message needs at least one recipient');
  msg.recipients.forEach((rcpt, i) => checkRecipient(rcpt, `recipients[${i}]`));

  if (!(msg.content instanceof Uint8Array)) invalid('content must be a Uint8Array');
}
