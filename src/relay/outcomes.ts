import type { DeliveryStatus, Notify } from '../core/index.ts';
import type { Reply } from './smtp-client.ts';

/** One recipient's result of an attempt, before policy (retry, redirect, DSN) decides what follows. */
export type AttemptResult =
  | {
      readonly kind: 'delivered';
      readonly status: DeliveryStatus;
      /** Owed a "relayed" DSN (the re-emission plan says why). */
      readonly relayed: boolean;
      /** Relayed to a hop with DSN, given NOTIFY: further notifications may come from it (RFC 3461 5.2.2). */
      readonly nextHopNotifies?: boolean;
    }
  | { readonly kind: 'permanent'; readonly status: DeliveryStatus }
  | { readonly kind: 'temporary'; readonly status: DeliveryStatus; readonly unreachable: boolean };

export function statusFromReply(reply: Reply, at: number, remoteMta: string): DeliveryStatus {
  const cls = Math.floor(reply.code / 100);
  const status = reply.enhanced ?? `${cls}.0.0`;
  return { status, text: reply.text.split('\r\n')[0] ?? '', at, remoteReply: `${reply.code} ${reply.text.replace(/\r\n/g, ' ')}`, remoteMta };
}

export function resultFromReply(reply: Reply, at: number, remoteMta: string, relayed: boolean): AttemptResult {
  const status = statusFromReply(reply, at, remoteMta);
  if (reply.code >= 200 && reply.code < 300) return { kind: 'delivered', status, relayed };
  if (reply.code >= 500) return { kind: 'permanent', status };
  return { kind: 'temporary', status, unreachable: false };
}

/**
 * RFC 3461 5.2.5-5.2.7 (and RFC 2852 4.1.3 for delays past BY): who gets a DSN for what. "Relayed" DSNs are
 * decided by the re-emission plan, and redirects by decisions.md, not here.
 */
export function wantsDsn(notify: Notify, action: 'failed' | 'delayed' | 'delivered'): boolean {
  if (notify === 'NEVER') return false;
  if (notify === null) return action !== 'delivered';
  if (action === 'failed') return notify.includes('FAILURE');
  if (action === 'delayed') return notify.includes('DELAY');
  return notify.includes('SUCCESS');
}
