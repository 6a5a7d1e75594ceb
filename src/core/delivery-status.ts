/**
 * The outcome of a delivery attempt as a value (RFC 3463 status, text, remote reply): retries, DSNs, logs
 * and the CLI all read the same record.
 */
export interface DeliveryStatus {
  /** RFC 3463 enhanced status code, e.g. "5.1.1". */
  readonly status: string;
  readonly text: string;
  readonly at: number;
  /** The remote MTA's reply, verbatim, when the outcome came from one. */
  readonly remoteReply?: string;
  readonly remoteMta?: string;
}
