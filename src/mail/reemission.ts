import type { MailParams, Notify, NotifyCondition, Priority, TypedAddress } from '../core/index.ts';
import { formatDeadline, remainingSeconds } from './deliver-by.ts';
import { encodeXtext } from './xtext.ts';

/** What the next hop said in its EHLO reply, as far as re-emission cares. */
export interface HopCapabilities {
  readonly dsn: boolean;
  /** DELIVERBY minimum in seconds, or null when not advertised. */
  readonly deliverBy: number | null;
  readonly mtPriority: boolean;
  readonly altRecip: boolean;
  /** SIZE limit (0 = none stated), or null when SIZE is not advertised. */
  readonly size: number | null;
  readonly eightBitMime: boolean;
  readonly smtpUtf8: boolean;
}

export interface ReemitRecipient {
  readonly address: string;
  readonly notify: Notify;
  readonly orcpt?: TypedAddress;
  readonly arcpt?: TypedAddress;
}

export interface ReemitInput {
  readonly sender: string;
  readonly params: MailParams;
  readonly priority: Priority;
  readonly recipients: readonly ReemitRecipient[];
  readonly contentSize: number;
  readonly eightBit: boolean;
  readonly now: number;
}

/** Why a message cannot go to this hop at all; the status goes into the failed DSN. */
export interface ReemitRefusal {
  readonly refuse: true;
  readonly status: string;
  readonly text: string;
}

export interface ReemitPlan {
  readonly refuse: false;
  readonly mailParams: readonly string[];
  readonly rcptParams: readonly (readonly string[])[];
  /** Set when the priority travels as an MT-Priority: header (RFC 6758 3.3) because the hop lacks the extension. */
  readonly tunnelPriority?: number;
  /** Recipients owed a "relayed" DSN once the hop accepts them (RFC 3461 5.2.2, RFC 2852 4.1.4.2 and trace). */
  readonly relayedDsn: readonly number[];
  /** Whether ARCPT/ABY responsibility stays here (the hop lacks ALTRECIP). */
  readonly keepAltRecip: boolean;
}

const has = (n: Notify, c: NotifyCondition) => Array.isArray(n) && n.includes(c);

/**
 * The re-emission rules of the digest, section 8: what MAIL and RCPT carry to a hop with the given
 * capabilities, or why the message must not go there. Pure: the caller speaks SMTP.
 */
export function planReemission(m: ReemitInput, hop: HopCapabilities): ReemitPlan | ReemitRefusal {
  const mail: string[] = [];
  const notifies: Notify[] = m.recipients.map((r) => r.notify);
  const relayed = new Set<number>();

  if (m.params.smtputf8 && !hop.smtpUtf8) return { refuse: true, status: '5.6.7', text: 'the next hop does not support SMTPUTF8' };
  if (m.eightBit && !hop.eightBitMime) return { refuse: true, status: '5.6.3', text: 'the next hop does not accept 8-bit data and conversion is not supported' };
  if (hop.size !== null && hop.size > 0 && m.contentSize > hop.size) return { refuse: true, status: '5.3.4', text: `the next hop accepts at most ${hop.size} bytes` };
  if (hop.size !== null) mail.push(`SIZE=${m.contentSize}`);
  if (m.params.body === '8BITMIME' && hop.eightBitMime) mail.push('BODY=8BITMIME');
  if (m.params.smtputf8) mail.push('SMTPUTF8');

  // RFC 2852 4.1.4: BY as the seconds remaining now; R mode only to a hop that can honour it.
  const by = m.params.by;
  if (by) {
    const left = remainingSeconds(by, m.now);
    if (by.mode === 'R' && left <= 0) return { refuse: true, status: '5.4.7', text: 'delivery time expired' };
    if (hop.deliverBy !== null) {
      if (by.mode === 'R' && hop.deliverBy > left) return { refuse: true, status: '5.4.7', text: `the next hop needs at least ${hop.deliverBy} s, ${left} s remain` };
      mail.push(`BY=${formatDeadline(left, by)}`);
      if (by.trace) notifies.forEach((n, i) => n !== 'NEVER' && relayed.add(i));
    } else {
      if (by.mode === 'R') return { refuse: true, status: '5.3.3', text: 'the next hop does not support DELIVERBY' };
      // N mode: relay without BY, tell the sender so, and ask the hop for delay notices (RFC 2852 4.1.4.2).
      notifies.forEach((n, i) => {
        if (n === 'NEVER') return;
        relayed.add(i);
        if (hop.dsn) notifies[i] = n === null ? ['FAILURE', 'DELAY'] : n.includes('DELAY') ? n : [...n, 'DELAY'];
      });
    }
  }

  // RFC 6710 4.2 / RFC 6758 3.3: the determined value as a parameter, or tunnelled in one header.
  let tunnel: number | undefined;
  if (hop.mtPriority) mail.push(`MT-PRIORITY=${m.priority.value}`);
  else if (m.priority.source !== 'policy' || m.priority.value !== 0) tunnel = m.priority.value;

  if (hop.dsn) {
    if (m.params.ret) mail.push(`RET=${m.params.ret}`);
    if (m.params.envid !== undefined) mail.push(`ENVID=${encodeXtext(m.params.envid)}`);
  } else {
    // RFC 3461 5.2.2: the hop cannot notify, so a SUCCESS request is answered here with "relayed".
    notifies.forEach((n, i) => has(n, 'SUCCESS') && relayed.add(i));
  }

  const keepAltRecip = !hop.altRecip;
  const aby = m.params.aby;
  if (!keepAltRecip && aby && m.recipients.some((r) => r.arcpt)) mail.push(`ABY=${formatDeadline(remainingSeconds(aby, m.now), aby)}`);

  const rcptParams = m.recipients.map((r, i) => {
    const p: string[] = [];
    const n = notifies[i]!;
    if (hop.dsn) {
      if (n !== null) p.push(`NOTIFY=${n === 'NEVER' ? 'NEVER' : n.join(',')}`);
      if (r.orcpt) p.push(`ORCPT=${r.orcpt.type};${encodeXtext(r.orcpt.address)}`);
    }
    if (!keepAltRecip && r.arcpt) p.push(`ARCPT=${r.arcpt.type};${encodeXtext(r.arcpt.address)}`);
    return p;
  });

  return { refuse: false, mailParams: mail, rcptParams, ...(tunnel !== undefined ? { tunnelPriority: tunnel } : {}), relayedDsn: [...relayed].sort((a, b) => a - b), keepAltRecip };
}

/** RFC 6758 3.3: every MT-Priority: field goes, one with the determined value comes (after the trace fields). */
export function tunnelPriorityHeader(content: Uint8Array, value: number): Buffer {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const split = buf.indexOf('\r\n\r\n');
  const headEnd = split < 0 ? buf.length : split + 2;
  const lines = buf.subarray(0, headEnd).toString('latin1').split(/\r\n(?![ \t])/);
  const kept = lines.filter((l) => l !== '' && !/^mt-priority[ \t]*:/i.test(l));
  // Trace fields stay on top (RFC 5321 4.4): the new field goes after the leading Received lines.
  let at = 0;
  while (at < kept.length && /^(received|return-path)[ \t]*:/i.test(kept[at]!)) at++;
  kept.splice(at, 0, `MT-Priority: ${value}`);
  return Buffer.concat([Buffer.from(kept.join('\r\n') + '\r\n', 'latin1'), buf.subarray(headEnd)]);
}

