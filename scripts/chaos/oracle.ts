// The chaos campaign's oracle: after quiescence, every accepted message is delivered exactly once and byte for
// byte (below the trace fields added in transit) to each recipient or to its alternate, or has produced exactly
// the right DSN in its sender's Maildir; nothing is delivered or reported twice; nothing unexplained appears.
import type { MaildirFile, QueueEntryView } from './cluster.ts';
import type { PeerTransaction } from './next-hop.ts';
import { destination, type PlannedMessage, type PlannedRecipient, type StationName } from './plan.ts';

/** One submission attempt of a planned message, as the SMTP client saw it. */
export interface Attempt {
  readonly message: PlannedMessage;
  readonly attempt: number;
  readonly id: string;
  /**
   * accepted: 250 after DATA; refused: a 4xx/5xx at MAIL, every RCPT or DATA; interrupted: the connection died
   * before DATA (nothing can have been stored); uncertain: it died after the data went (it may have been stored).
   */
  readonly outcome: 'accepted' | 'refused' | 'interrupted' | 'uncertain';
  readonly detail: string;
  /** Recipients that got 250 to RCPT TO. */
  readonly recipients: readonly PlannedRecipient[];
}

export interface Observations {
  readonly maildirs: readonly MaildirFile[];
  readonly peer: readonly PeerTransaction[];
  /** Whatever each station still holds with a queued recipient at the end (or why that could not be read). */
  readonly queues: Readonly<Record<StationName, QueueEntryView[] | string>>;
  readonly settled: boolean;
  /** When each SIGKILL was sent (wall clock, ms). */
  readonly kills?: readonly { readonly station: StationName; readonly at: number }[];
}

/**
 * How close to a SIGKILL of a station a next-hop transaction must have ended for a second copy to be the SMTP
 * duplicate that no client can prevent (RFC 1047): the client died between sending the final "." and recording
 * the 250, so it sends the message again after its restart.
 */
const RFC1047_WINDOW_MS = 1000;

export interface Verdict {
  readonly failures: string[];
  readonly notes: string[];
  readonly counts: Record<string, number>;
}

interface Delivery {
  readonly to: string;
  readonly where: string;
  readonly altOf?: string;
  readonly content: Buffer;
  readonly origin: string;
  /** For a next-hop transaction: when the next hop had the whole message. */
  readonly peerAt?: number;
}

interface DsnBlock {
  readonly final: string;
  readonly action: string;
  readonly status: string;
  readonly originalRecipient?: string;
  readonly redirectedTo?: string;
  readonly file: string;
}

/** One acceptable end for a recipient: what must have been delivered where, and which DSN blocks the sender holds. */
interface Option {
  /** What happened, without addresses (for the counts). */
  readonly kind: string;
  readonly label: string;
  readonly deliveries: readonly { to: string; where: string; altOf?: string }[];
  /** DSN blocks; an `optional` one may be there once, or not (a race the campaign cannot decide). */
  readonly dsn: readonly { final: string; action: string; status: readonly string[]; redirectedTo?: string; originalRecipient?: string; optional?: boolean }[];
}

const TRACE = /^(received|alternate-recipient-of|mt-priority)[ \t]*:/i;

/** Splits a message into its header fields (unfolded names kept with their raw text) and where the body starts. */
export function headerFields(buf: Buffer): { fields: { name: string; value: string; raw: string }[]; bodyAt: number } {
  const end = buf.indexOf('\r\n\r\n');
  const headEnd = end < 0 ? buf.length : end + 2;
  const text = buf.subarray(0, headEnd).toString('latin1');
  const raws = text.split(/\r\n(?![ \t])/).filter((l) => l !== '');
  const fields = raws.map((raw) => {
    const colon = raw.indexOf(':');
    return { name: raw.slice(0, colon).trim().toLowerCase(), value: raw.slice(colon + 1).replace(/\r\n[ \t]+/g, ' ').trim(), raw };
  });
  return { fields, bodyAt: end < 0 ? buf.length : end + 4 };
}

/**
 * The message without the trace fields on top: the Return-Path a final delivery puts first (RFC 5321 4.4), then
 * Received, Alternate-Recipient-Of and MT-Priority in any order.
 */
export function belowTrace(buf: Buffer): { rest: Buffer; trace: string[]; returnPath?: string } {
  const trace: string[] = [];
  let at = 0;
  let returnPath: string | undefined;
  const first = /^return-path[ \t]*:[ \t]*(<[^>\r\n]*>)\r\n/i.exec(buf.subarray(0, 1024).toString('latin1'));
  if (first) {
    returnPath = first[1]!.slice(1, -1);
    at = first[0].length;
  }
  for (;;) {
    const text = buf.subarray(at, Math.min(buf.length, at + 4096)).toString('latin1');
    if (!TRACE.test(text)) break;
    // The field runs to the first CRLF not followed by whitespace.
    const m = /\r\n(?![ \t])/.exec(text);
    if (!m) break;
    trace.push(text.slice(0, m.index));
    at += m.index + 2;
  }
  return { rest: buf.subarray(at), trace, ...(returnPath !== undefined ? { returnPath } : {}) };
}

function field(fields: { name: string; value: string }[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}

function angle(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1]! : v).trim().toLowerCase();
}

/** A DSN's per-recipient blocks and the id of the message it reports on. */
function parseDsn(file: MaildirFile): { id?: string; to?: string; blocks: DsnBlock[]; problem?: string } {
  const { fields, bodyAt } = headerFields(file.content);
  const ct = field(fields, 'content-type') ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(ct)?.[1];
  const to = angle(field(fields, 'to'));
  const where = `${file.station}/${file.box}/${file.name}`;
  if (!boundary) return { blocks: [], problem: `DSN ${where} has no boundary` };
  const bodyText = file.content.subarray(bodyAt).toString('latin1');
  const parts = bodyText.split(`--${boundary}`).slice(1, -1);
  // RFC 3464, or RFC 6533's forms for internationalised mail.
  const status = parts.find((p) => /^\r\nContent-Type:\s*message\/(global-)?delivery-status/i.test(p));
  const original = parts.find((p) => /^\r\nContent-Type:\s*(text\/rfc822-headers|message\/rfc822|message\/global-headers|message\/global)\b/i.test(p));
  if (!status) return { blocks: [], problem: `DSN ${where} has no message/delivery-status part` };
  const statusBody = status.slice(status.indexOf('\r\n\r\n') + 4);
  const groups = statusBody
    .split(/\r\n\r\n/)
    .map((g) => g.trim())
    .filter(Boolean)
    .map((g) => g.split(/\r\n(?![ \t])/).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const));
  const perMessage = new Map(groups[0] ?? []);
  const blocks: DsnBlock[] = groups.slice(1).map((g) => {
    const m = new Map(g);
    const addr = (v: string | undefined) => v?.replace(/^rfc822;\s*/i, '').trim().toLowerCase();
    return {
      final: addr(m.get('final-recipient')) ?? '',
      action: (m.get('action') ?? '').toLowerCase(),
      status: m.get('status') ?? '',
      ...(m.get('original-recipient') !== undefined ? { originalRecipient: addr(m.get('original-recipient')) } : {}),
      ...(m.get('x-redirected-to') !== undefined ? { redirectedTo: addr(m.get('x-redirected-to')) } : {}),
      file: where,
    };
  });
  let id: string | undefined;
  if (original) {
    const head = Buffer.from(original.slice(original.indexOf('\r\n\r\n') + 4), 'latin1');
    id = field(headerFields(head).fields, 'x-chaos-id');
  }
  id ??= perMessage.get('original-envelope-id');
  return { ...(id !== undefined ? { id } : {}), ...(to !== undefined ? { to } : {}), blocks };
}

function where(d: { kind: string; station?: string; box?: string }): string {
  return d.kind === 'maildir' ? `maildir ${d.station}/${d.box}` : 'peer';
}

/** The acceptable ends for one recipient of a message (docs/decisions.md, RFC 3461, RFC 2852, the ALTRECIP draft). */
function options(m: PlannedMessage, r: PlannedRecipient): Option[] {
  const rMode = m.by?.mode === 'R';
  const wantsFailed = r.notify === null || r.notify.includes('FAILURE');
  const wantsSuccess = r.notify !== null && r.notify.includes('SUCCESS');
  const primary = r.address.toLowerCase();
  /** Where mail for `addr` can end; `altOf` set for the alternate's copy. */
  const fates = (addr: string, altOf?: string): Option[] => {
    const d = destination(addr);
    const orcpt = altOf !== undefined ? { originalRecipient: altOf } : {};
    const out: Option[] = [];
    const failed = (status: string, label: string): Option => ({
      kind: label,
      label,
      deliveries: [],
      dsn: wantsFailed ? [{ final: addr, action: 'failed', status: [status], ...orcpt }] : [],
    });
    if (d.kind === 'maildir' || d.kind === 'peer') {
      out.push({
        kind: 'delivered',
        label: `delivered to <${addr}>`,
        deliveries: [{ to: addr, where: where(d), ...(altOf !== undefined ? { altOf } : {}) }],
        // A "delivered" DSN from hfmail only for its own Maildirs: the peer takes NOTIFY with DSN advertised.
        dsn: wantsSuccess && d.kind === 'maildir' ? [{ final: addr, action: 'delivered', status: ['2.*'], ...orcpt }] : [],
      });
    }
    if (d.kind === 'peer-refuses' && (altOf !== undefined || !r.arcpt)) out.push(failed(d.status, `refused by the next hop (${d.status})`));
    // Deferred for ever: only the alternate (after the window) or a deadline ends it; the plan always gives one.
    if (d.kind === 'peer-defers' && (altOf !== undefined || !r.arcpt)) throw new Error(`the plan sent <${addr}> to a deferring address without an alternate`);
    if (d.kind === 'loop') out.push(failed('5.4.6', 'routing loop (5.4.6)'));
    if (rMode) out.push(failed('5.4.7', 'R-mode BY expired (5.4.7)'));
    return out;
  };
  if (!r.arcpt) return fates(primary);
  const alt = r.arcpt.toLowerCase();
  const out = fates(primary);
  const d = destination(primary);
  // Redirected: on a permanent refusal, 4xx for longer than relay.altRecipWindowS, or when ABY passed before delivery.
  const causes = [...(d.kind === 'peer-refuses' || d.kind === 'peer-defers' ? [d.status] : []), ...(m.aby ? ['4.4.7'] : [])];
  // RFC 2852 4.1.3 (decisions.md): 4xx past an N-mode BY is said once, as "delayed" 4.4.7, to who asks for delays
  // (no NOTIFY asks for failures and delays); whether BY passes before the redirect is a race.
  const delayed = d.kind === 'peer-defers' && m.by?.mode === 'N' && r.notify === null ? [{ final: primary, action: 'delayed', status: ['4.4.7'], optional: true }] : [];
  if (causes.length)
    for (const f of fates(alt, primary))
      out.push({
        kind: `redirected, then ${f.kind}`,
        label: `redirected to <${alt}>, then ${f.label}`,
        deliveries: f.deliveries,
        // decisions.md: a redirect is reported (relayed, X-Redirected-To) unless NOTIFY is NEVER or only DELAY;
        // the campaign never sends either.
        dsn: [{ final: primary, action: 'relayed', status: causes, redirectedTo: alt }, ...delayed, ...f.dsn],
      });
  return out;
}

function describeOption(o: Option): string {
  const d = o.deliveries.map((x) => `1× <${x.to}> at ${x.where}${x.altOf ? ` (Alternate-Recipient-Of <${x.altOf}>)` : ''}`);
  const n = o.dsn.map((x) => `${x.optional ? 'perhaps ' : ''}${x.action} ${x.status.join('|')} for <${x.final}>${x.redirectedTo ? ` X-Redirected-To <${x.redirectedTo}>` : ''}${x.originalRecipient ? ` Original-Recipient <${x.originalRecipient}>` : ''}`);
  return `${o.label}: deliveries [${d.join('; ') || 'none'}], DSN blocks [${n.join('; ') || 'none'}]`;
}

function statusMatches(want: readonly string[], got: string): boolean {
  return want.some((w) => (w.endsWith('.*') ? got.startsWith(w.slice(0, -1)) : got === w));
}

function firstDifference(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (x: Buffer) => JSON.stringify(x.subarray(Math.max(0, i - 20), i + 40).toString('latin1'));
  return `lengths ${a.length} (got) and ${b.length} (sent), first difference at byte ${i}: got ${show(a)}, sent ${show(b)}`;
}

export function judge(attempts: readonly Attempt[], obs: Observations): Verdict {
  const failures: string[] = [];
  const notes: string[] = [];
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const byId = new Map(attempts.map((a) => [a.id, a]));
  const deliveries = new Map<string, Delivery[]>();
  const dsns = new Map<string, DsnBlock[]>();
  const push = <T>(map: Map<string, T[]>, k: string, v: T) => (map.get(k) ?? (map.set(k, []), map.get(k)!)).push(v);

  // Maildir files: messages (with X-Chaos-Id on top) and DSNs (multipart/report).
  for (const f of obs.maildirs) {
    const name = `${f.station}/${f.box}/${f.name}`;
    const { fields } = headerFields(f.content);
    if (/multipart\/report/i.test(field(fields, 'content-type') ?? '')) {
      count('DSN files');
      const d = parseDsn(f);
      if (d.problem) {
        failures.push(d.problem);
        continue;
      }
      const a = d.id !== undefined ? byId.get(d.id) : undefined;
      if (!a) {
        failures.push(`DSN ${name} reports on no message of this run (id ${d.id ?? 'none'})`);
        continue;
      }
      // A DSN goes with the null reverse-path (RFC 3461 6), which final delivery writes as Return-Path: <>.
      const rp = belowTrace(f.content).returnPath;
      if (rp !== '') failures.push(`${a.id}: DSN ${name} has Return-Path ${rp === undefined ? 'missing' : `<${rp}>`}, not <>`);
      const sender = destination(a.message.sender);
      if (sender.kind !== 'maildir' || sender.station !== f.station || sender.box !== f.box || d.to !== a.message.sender.toLowerCase())
        failures.push(`${a.id}: DSN ${name} addressed to <${d.to}> is not in the sender's (<${a.message.sender}>) Maildir`);
      for (const b of d.blocks) push(dsns, a.id, b);
      continue;
    }
    const lead = belowTrace(f.content);
    const id = field(headerFields(lead.rest).fields, 'x-chaos-id');
    const a = id !== undefined ? byId.get(id) : undefined;
    if (!a) {
      failures.push(`Maildir file ${name} is from no message of this run (X-Chaos-Id ${id ?? 'none'})`);
      continue;
    }
    const altOf = angle(lead.trace.map((t) => /^alternate-recipient-of[ \t]*:(.*)$/is.exec(t)?.[1]).find((x) => x !== undefined));
    // One recipient per Maildir per message (plan.ts), so the file names its recipient; a copy names its primary.
    const here = `maildir ${f.station}/${f.box}`;
    let to: string | undefined;
    if (altOf !== undefined) to = a.message.recipients.find((r) => r.address.toLowerCase() === altOf)?.arcpt?.toLowerCase();
    else to = a.message.recipients.find((r) => where(destination(r.address)) === here)?.address.toLowerCase();
    if (to === undefined) {
      failures.push(`${a.id}: Maildir file ${name} (Alternate-Recipient-Of ${altOf ?? 'none'}) matches no recipient of the message`);
      continue;
    }
    if (lead.returnPath?.toLowerCase() !== a.message.sender.toLowerCase())
      failures.push(`${a.id}: Maildir file ${name} has Return-Path ${lead.returnPath === undefined ? 'missing (RFC 5321 4.4: final delivery adds it first)' : `<${lead.returnPath}>`}, not <${a.message.sender}>`);
    push(deliveries, a.id, { to, where: here, ...(altOf !== undefined ? { altOf } : {}), content: lead.rest, origin: name });
  }

  // The next hop's transactions.
  obs.peer.forEach((t, k) => {
    const lead = belowTrace(t.content);
    const id = field(headerFields(lead.rest).fields, 'x-chaos-id');
    const a = id !== undefined ? byId.get(id) : undefined;
    if (!a) {
      failures.push(`next-hop transaction #${k} (MAIL FROM:<${t.from}>) is from no message of this run (X-Chaos-Id ${id ?? 'none'})`);
      return;
    }
    if (t.from.toLowerCase() !== a.message.sender.toLowerCase()) failures.push(`${a.id}: the next hop got it with MAIL FROM:<${t.from}>, not <${a.message.sender}>`);
    const altOf = angle(lead.trace.map((x) => /^alternate-recipient-of[ \t]*:(.*)$/is.exec(x)?.[1]).find((x) => x !== undefined));
    // The re-emission rules (README, decisions.md) towards a hop with DSN and DELIVERBY but without ALTRECIP and
    // MT-PRIORITY: ENVID and RET as given, BY as the seconds left, NOTIFY as given, no ARCPT, one MT-Priority field.
    const m = a.message;
    const params = t.mailParams.split(/\s+/).filter(Boolean);
    const problems: string[] = [];
    // RFC 5321 4.4: only final delivery adds Return-Path; a relay hands the message on without it.
    if (lead.returnPath !== undefined) problems.push(`Return-Path <${lead.returnPath}> added on the way to a relay`);
    if (!params.includes(`ENVID=${a.id}`)) problems.push(`no ENVID=${a.id}`);
    if (!params.includes(`RET=${m.ret}`)) problems.push(`no RET=${m.ret}`);
    const by = params.map((p) => /^BY=(-?\d+);([RN])$/i.exec(p)).find((x) => x);
    if (m.by && (!by || by[2]!.toUpperCase() !== m.by.mode || Number(by[1]) > m.by.seconds || (m.by.mode === 'R' && Number(by[1]) <= 0)))
      problems.push(`BY ${by ? by[0] : 'missing'} for BY=${m.by.seconds};${m.by.mode} at submission`);
    if (!m.by && by) problems.push(`${by[0]} on a message sent without BY`);
    if (params.some((p) => /^ABY=/i.test(p))) problems.push('ABY passed to a hop without ALTRECIP');
    for (const r of t.recipients) {
      const planned = m.recipients.find((x) => x.address.toLowerCase() === r.address.toLowerCase() || x.arcpt?.toLowerCase() === r.address.toLowerCase());
      if (/\bARCPT=/i.test(r.params)) problems.push(`ARCPT passed for <${r.address}> to a hop without ALTRECIP`);
      const notify = /\bNOTIFY=(\S+)/i.exec(r.params)?.[1];
      if (planned && (notify ?? null) !== planned.notify) problems.push(`NOTIFY=${notify ?? '(none)'} for <${r.address}>, sent with NOTIFY=${planned.notify ?? '(none)'}`);
    }
    const prio = lead.trace.filter((x) => /^mt-priority[ \t]*:/i.test(x)).map((x) => x.replace(/^mt-priority[ \t]*:/i, '').trim());
    if (prio.length !== 1 || prio[0] !== String(m.priority)) problems.push(`MT-Priority field(s) [${prio.join(', ')}] for MT-PRIORITY=${m.priority} at submission`);
    if (problems.length) failures.push(`${a.id}: next-hop transaction #${k} (to ${t.recipients.map((r) => `<${r.address}>`).join(', ')}): ${problems.join('; ')}`);
    for (const r of t.recipients) push(deliveries, a.id, { to: r.address.toLowerCase(), where: 'peer', ...(altOf !== undefined ? { altOf } : {}), content: lead.rest, origin: `next-hop transaction #${k}`, peerAt: t.at });
  });

  // The one duplicate SMTP cannot rule out (RFC 1047, docs/decisions.md): a copy at the next hop whose
  // transaction ended within a second of a SIGKILL, followed by another copy of the same to the same address, is
  // that window; the later copy is the delivery. Anything else twice is a failure below.
  for (const [id, list] of deliveries) {
    const peer = list.filter((d) => d.where === 'peer');
    for (const d of peer) {
      const again = peer.some((e) => e !== d && e.to === d.to && (e.peerAt ?? 0) > (d.peerAt ?? 0));
      const killed = (obs.kills ?? []).some((k) => Math.abs((d.peerAt ?? -Infinity) - k.at) <= RFC1047_WINDOW_MS);
      if (!again || !killed) continue;
      list.splice(list.indexOf(d), 1);
      notes.push(`${id}: <${d.to}> reached the next hop twice; the first (${d.origin}) ended ${RFC1047_WINDOW_MS} ms or less from a SIGKILL of its sender (the RFC 1047 window)`);
      count('RFC 1047 duplicates at the next hop');
    }
  }

  // Every delivery is byte-identical to what was sent, below the trace fields.
  for (const [id, list] of deliveries) {
    const a = byId.get(id)!;
    const sent = a.message.content(a.attempt);
    for (const d of list) if (!d.content.equals(sent)) failures.push(`${id}: the copy for <${d.to}> (${d.origin}) is not byte-identical: ${firstDifference(d.content, sent)}`);
  }

  for (const a of attempts) {
    count('submission attempts');
    count(`attempts ${a.outcome}`);
    const got = deliveries.get(a.id) ?? [];
    const blocks = dsns.get(a.id) ?? [];
    if (a.outcome !== 'accepted') {
      // Not counted (logged), but nothing may be delivered or reported twice even so.
      notes.push(`${a.id} not accepted (${a.outcome}: ${a.detail})${got.length || blocks.length ? `; it left ${got.length} deliveries and ${blocks.length} DSN blocks` : ''}`);
      const seen = new Map<string, number>();
      for (const d of got) seen.set(`delivery to <${d.to}>`, (seen.get(`delivery to <${d.to}>`) ?? 0) + 1);
      for (const b of blocks) seen.set(`DSN ${b.action} for <${b.final}>`, (seen.get(`DSN ${b.action} for <${b.final}>`) ?? 0) + 1);
      for (const [k, n] of seen) if (n > 1) failures.push(`${a.id} (not accepted: ${a.detail}): ${k} ${n} times`);
      continue;
    }
    count('accepted messages');
    if (a.recipients.length < a.message.recipients.length) notes.push(`${a.id} accepted for ${a.recipients.length} of ${a.message.recipients.length} recipients (${a.detail})`);
    const claimed = new Set<number>();
    const claimedBlocks = new Set<number>();
    for (const r of a.recipients) {
      count('accepted recipients');
      const mine = (addr: string) => addr === r.address.toLowerCase() || (r.arcpt !== undefined && addr === r.arcpt.toLowerCase());
      const myDeliveries = got.map((d, i) => [d, i] as const).filter(([d]) => mine(d.to));
      const myBlocks = blocks.map((b, i) => [b, i] as const).filter(([b]) => mine(b.final));
      myDeliveries.forEach(([, i]) => claimed.add(i));
      myBlocks.forEach(([, i]) => claimedBlocks.add(i));
      const opts = options(a.message, r);
      const match = opts.find((o) => {
        if (o.deliveries.length !== myDeliveries.length) return false;
        const dl = [...myDeliveries.map(([d]) => d)];
        for (const want of o.deliveries) {
          const k = dl.findIndex((d) => d.to === want.to && d.where === want.where && d.altOf === want.altOf);
          if (k < 0) return false;
          dl.splice(k, 1);
        }
        const bl = [...myBlocks.map(([b]) => b)];
        // What must be there first, then what may be; nothing else.
        for (const want of [...o.dsn.filter((x) => !x.optional), ...o.dsn.filter((x) => x.optional)]) {
          const k = bl.findIndex(
            (b) =>
              b.final === want.final &&
              b.action === want.action &&
              statusMatches(want.status, b.status) &&
              b.redirectedTo === want.redirectedTo &&
              (want.originalRecipient === undefined || b.originalRecipient === want.originalRecipient),
          );
          if (k >= 0) bl.splice(k, 1);
          else if (!want.optional) return false;
        }
        return bl.length === 0;
      });
      if (match) {
        count(`outcome: ${match.kind}`);
        continue;
      }
      const seenD = myDeliveries.map(([d]) => `<${d.to}> at ${d.where}${d.altOf ? ` (Alternate-Recipient-Of <${d.altOf}>)` : ''} [${d.origin}]`);
      const seenB = myBlocks.map(([b]) => `${b.action} ${b.status} for <${b.final}>${b.redirectedTo ? ` X-Redirected-To <${b.redirectedTo}>` : ''}${b.originalRecipient ? ` Original-Recipient <${b.originalRecipient}>` : ''} [${b.file}]`);
      failures.push(
        `${a.id} (from <${a.message.sender}> at ${a.message.station}${a.message.by ? `, BY=${a.message.by.seconds};${a.message.by.mode}` : ''}${a.message.aby ? `, ABY=${a.message.aby.seconds};${a.message.aby.mode}` : ''}), ` +
          `recipient <${r.address}>${r.arcpt ? ` ARCPT <${r.arcpt}>` : ''} NOTIFY=${r.notify ?? '(none)'} (${r.kind}):\n` +
          `      seen: deliveries [${seenD.join('; ') || 'none'}], DSN blocks [${seenB.join('; ') || 'none'}]\n` +
          `      expected exactly one of:\n${opts.map((o) => `        - ${describeOption(o)}`).join('\n')}`,
      );
    }
    got.forEach((d, i) => !claimed.has(i) && failures.push(`${a.id}: delivery to <${d.to}> at ${d.where} (${d.origin}), not a recipient it was accepted for`));
    blocks.forEach((b, i) => !claimedBlocks.has(i) && failures.push(`${a.id}: DSN block ${b.action} ${b.status} for <${b.final}> (${b.file}), not a recipient it was accepted for`));
  }

  // Tallies for the table.
  for (const list of deliveries.values()) for (const d of list) count(d.altOf ? 'delivered to an alternate' : 'delivered to the recipient');
  for (const list of dsns.values())
    for (const b of list) count(`DSN ${b.action}${b.action === 'delivered' ? '' : ` ${b.status}`}${b.redirectedTo ? ' (redirect)' : ''}`);

  if (!obs.settled) failures.push('the stations did not settle within the time limit');
  for (const s of ['alpha', 'bravo'] as const) {
    const q = obs.queues[s];
    if (typeof q === 'string') failures.push(`${s}: ${q}`);
    else
      for (const e of q) {
        const open = e.recipients.filter((x) => !['delivered', 'failed', 'redirected'].includes(x.state));
        const what = open.map((r) => `<${r.address}> ${r.state} via ${r.route}${r.status ? ` [${r.status.status} ${r.status.text}]` : ''}${r.held ? ` (held by ${r.held.by}: ${r.held.reason})` : ''}${r.corrupt ? ` (corrupt: ${r.corrupt.error})` : ''}`);
        failures.push(`${s} still holds ${e.id}${e.problem ? ` (${e.problem})` : ''}: ${what.join('; ') || 'no open recipient listed'}`);
      }
  }
  return { failures, notes, counts };
}
