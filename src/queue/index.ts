export { MessageStore, QUEUE_DB_FILE, type QueueSummary, type QueueSummaryRecipient } from './message-store.ts';
export { QueueError, isQueueError, type QueueErrorCode } from './queue-error.ts';
export { SCHEMA_VERSION } from './schema.ts';
export { LinkState } from './link-state.ts';
export { DeliveryTable, type AttemptOutcome, type DueRecipient } from './delivery-store.ts';
