export * from './clock.ts';
export * from './failpoint.ts';
export * from './priority.ts';
export * from './envelope.ts';
export * from './delivery-status.ts';
export * from './message-id.ts';
export * from './limits.ts';
export * from './storage-fault.ts';
