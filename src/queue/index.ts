export { MessageStore, QUEUE_DB_FILE, type QueueSummary, type QueueSummaryRecipient } from './message-store.ts';
export { QueueError, isQueueError, type QueueErrorCode } from './queue-error.ts';
export { SCHEMA_VERSION } from './schema.ts';
export { LinkState } from './link-state.ts';
export { DeliveryTable, type AttemptOutcome, type DueRecipient } from './delivery-store.ts';
export { LinkOutbound, type LinkItem, type LinkOutboundDeps } from './link-outbound.ts';
export { QueueOperator, OPERATOR_STATES, type OperatorState, type Selection, type Target, type OperationResult, type DeleteResult, type RemovedMessage, type PurgeResult, type OperatorSummary, type OperatorStatus, type HoldInfo, type QuarantineInfo } from './operator.ts';
export { GroupCommit, type BatchableStore } from './group-commit.ts';
export { QueueStats, RECENT_WINDOW, type QueueDepth, type RecentOutcome } from './queue-stats.ts';
