export { SmtpClient, SmtpClientError, dotStuff, RFC5321_TIMEOUTS, type Capabilities, type Envelope, type Reply, type Timeouts, type TransactionResult } from './smtp-client.ts';
export { deliverToMaildir, makeMaildir } from './maildir.ts';
export { hopCapabilities } from './hop-capabilities.ts';
export { RelayRunner } from './relay-runner.ts';
export { retryDelay, type DeliveryStore, type RelayPolicy, type RetryPolicy } from './contracts.ts';
