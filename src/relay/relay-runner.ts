import { promises as dns } from 'node:dns';
import type { Logger } from 'pino';
import { failpoint, storageFault, type Clock, type DeliveryStatus, type QueuedMessage, type Recipient, type Route, type Timer } from '../core/index.ts';
import { buildDsn, headerEnd, isGlobalDsn, planReemission, remainingSeconds, rfc5322Date, tunnelPriorityHeader, type DsnRecipient } from '../mail/index.ts';
import type { DueRecipient } from '../queue/index.ts';
import { retryDelay, type DeliveryStore, type RelayPolicy } from './contracts.ts';
import { hopCapabilities } from './hop-capabilities.ts';
import { deliverToMaildir } from './maildir.ts';
import { StorageFaults } from './storage-faults.ts';
import { resultFromReply, wantsDsn, type AttemptResult } from './outcomes.ts';
import { SmtpClient, SmtpClientError } from './smtp-client.ts';

interface Group {
  readonly messageId: string;
  readonly route: Route;
  /** Where the session goes: one slow destination never takes every session. */
  readonly destination: string;
  readonly due: DueRecipient[];
}

/**
 * Delivers what the queue holds for local Maildirs, LMTP, smarthosts and MX hosts: the re-emission rules at
 * each hop, retries with backoff (shorter for higher priorities), BY expiry, ALTRECIP redirects, and DSNs
 * queued like any other message. Every attempt ends in a DeliveryStatus stored with the recipient.
 *
 * Work goes highest priority first, several sessions at once, at most a few to one destination: whenever a
 * session ends or new mail arrives the due list is read again, so a FLASH message never waits behind a pass.
 */
export class RelayRunner {
  private timer?: Timer;
  private stopped = false;
  private active = 0;
  private readonly perDestination = new Map<string, number>();
  /** Recipients in a session now (`id\0idx`): not started twice. */
  private readonly inFlight = new Set<string>();
  private readonly idle: (() => void)[] = [];
  private readonly resolver: dns.Resolver;
  private readonly maxSessions: number;
  private readonly maxPerDestination: number;
  /** Destinations whose storage is full or failing (a Maildir's disk; 'queue' for our own), waiting out a backoff. */
  private readonly faults: StorageFaults;

  constructor(
    private readonly store: DeliveryStore,
    private readonly policy: RelayPolicy,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Maildir delivery (a test injects a full disk here). */
    private readonly maildir: typeof deliverToMaildir = deliverToMaildir,
  ) {
    this.faults = new StorageFaults(clock, log);
    this.resolver = new dns.Resolver({ timeout: policy.dns.timeoutMs, tries: 1 });
    if (policy.dns.servers.length) this.resolver.setServers([...policy.dns.servers]);
    this.maxSessions = policy.sessions?.max ?? 8;
    this.maxPerDestination = policy.sessions?.perDestination ?? 2;
  }

  start(): void {
    this.kick();
  }

  /** Stops, after the attempts in progress have recorded their outcomes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Sessions are under way (one may be waiting on a peer): a virtual-time driver waits for them. */
  get busy(): boolean {
    return this.active > 0;
  }

  /** Something changed (a message arrived): look at the queue soon. */
  kick(): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimer(0, () => this.fill());
  }

  /** Starts what is due now and resolves once every session has ended and nothing more is due (tests await it). */
  run(): Promise<void> {
    this.fill();
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  /** Fills the free sessions with due work, highest priority first. */
  private fill(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    // Our own store is full: nothing could be recorded, so nothing is attempted until the backoff ends.
    if (this.faults.blocked(QUEUE, now)) return this.schedule();
    let due: DueRecipient[];
    try {
      due = this.store.due(now).filter((d) => !this.inFlight.has(`${d.messageId}\0${d.idx}`));
    } catch (err) {
      this.log.error({ err }, 'could not read the queue; trying again in 5 s');
      this.timer?.cancel();
      this.timer = this.clock.setTimer(5000, () => this.fill());
      return;
    }
    for (const g of groups(due)) {
      if (this.active >= this.maxSessions) break;
      if (this.faults.blocked(g.destination, now)) continue;
      if ((this.perDestination.get(g.destination) ?? 0) >= this.maxPerDestination) continue;
      this.begin(g);
    }
    this.schedule();
    if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private begin(g: Group): void {
    this.active++;
    this.perDestination.set(g.destination, (this.perDestination.get(g.destination) ?? 0) + 1);
    const keys = g.due.map((d) => `${d.messageId}\0${d.idx}`);
    for (const k of keys) this.inFlight.add(k);
    const end = () => {
      this.active--;
      const n = (this.perDestination.get(g.destination) ?? 1) - 1;
      if (n > 0) this.perDestination.set(g.destination, n);
      else this.perDestination.delete(g.destination);
      for (const k of keys) this.inFlight.delete(k);
      if (this.stopped) {
        if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
      } else this.fill();
    };
    let message: QueuedMessage | undefined;
    try {
      message = this.store.get(g.messageId);
    } catch (err) {
      this.log.error({ err, msgId: g.messageId }, 'could not read a queued message');
    }
    if (!message) return end();
    this.attempt(message, g).then(end, (err: unknown) => {
      // A full disk under the queue while recording: nothing was recorded, the recipients stay queued.
      const fault = storageFault(err);
      if (fault) this.faults.fault(QUEUE, fault, err);
      else this.log.error({ err, msgId: g.messageId }, 'delivery attempt failed');
      end();
    });
  }

  /** The next wake-up: when the next recipient falls due (at least a second away while sessions run). */
  private schedule(): void {
    if (this.stopped) return;
    let next: number | undefined;
    try {
      next = this.store.nextDueAt();
    } catch {
      next = this.clock.now() + 5000;
    }
    this.timer?.cancel();
    this.timer = undefined;
    const now = this.clock.now();
    // Work that is due but waits out a storage backoff is looked at again when the backoff ends, not at once.
    const resume = this.faults.resumeAt();
    if (resume !== undefined && next !== undefined && (next <= now || this.faults.blocked(QUEUE, now))) next = Math.max(next, resume);
    if (next === undefined) return;
    const wait = Math.max(this.active > 0 ? 1000 : 0, next - now);
    this.timer = this.clock.setTimer(wait, () => this.fill());
  }

  private async attempt(m: QueuedMessage, g: Group): Promise<void> {
    const now = this.clock.now();
    const log = this.log.child({ msgId: m.id, priority: m.priority.value, route: `${g.route.kind}:${g.route.target}` });
    const live: DueRecipient[] = [];
    for (const d of g.due) {
      // RFC 2852 4.1.3: an R-mode deadline ends all attempts; ALTRECIP: an expired ABY redirects.
      if (m.params.by?.mode === 'R' && m.params.by.at <= now) this.store.transaction(() => this.fail(m, d, { status: '5.4.7', text: `delivery time (BY ${m.params.by!.requestedSeconds} s, R) expired before delivery was possible`, at: now }));
      else if (d.recipient.arcpt && m.params.aby && m.params.aby.at <= now) this.store.transaction(() => this.redirect(m, d, { status: '4.4.7', text: 'alternate-recipient deadline (ABY) passed', at: now }));
      else live.push(d);
    }
    if (!live.length) return;
    let results: AttemptResult[];
    try {
      results = await this.deliver(m, g.route, live, now);
    } catch (err) {
      // Our disk (a Maildir's) is full or failing: not an outcome of the message. It stays queued, untouched,
      // and the destination waits out a backoff instead of being tried again at once.
      const fault = storageFault(err);
      if (fault) return this.faults.fault(g.destination, fault, err, `${g.route.kind}:${g.route.target}`);
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const detail = err instanceof SmtpClientError ? err.message : `${code ? code + ': ' : ''}${(err as Error).message}`;
      // RFC 3463: 5.1.2 no such destination domain, 4.4.3 directory server failure, 4.4.1 no answer from host.
      const dnsFailure = code === 'ETIMEOUT' || code === 'ESERVFAIL' || code === 'ECONNREFUSED' && !(err instanceof SmtpClientError);
      const status: DeliveryStatus = { status: code === 'ENOTFOUND' ? '5.1.2' : dnsFailure ? '4.4.3' : '4.4.1', text: detail, at: now };
      results = live.map(() => (status.status.startsWith('5') ? { kind: 'permanent', status } : { kind: 'temporary', status, unreachable: true }));
    }
    // Each recipient's outcome, its redirected copy and the DSN that reports them commit together.
    this.store.transaction(() => {
      const dsn: DsnRecipient[] = [];
      results.forEach((r, i) => {
        const d = live[i]!;
        const outcome = this.decide(m, d, r, now);
        if (outcome) dsn.push(outcome);
      });
      failpoint('outcomes-recorded'); // states written, DSN not yet: a crash here rolls back both
      if (dsn.length) this.sendDsn(m, dsn, now);
    });
    this.faults.cleared(g.destination);
    this.faults.cleared(QUEUE);
    log.info({ results: results.map((r, i) => `${live[i]!.recipient.address}: ${r.kind} ${r.status.status}`) }, 'delivery attempt');
  }

  /**
   * The radio link withdrew a message whose deadline passed before the peer took it: recipients with an
   * alternate and an expired ABY are redirected; past an R-mode BY the others fail with 5.4.7, otherwise they
   * wait for the link again; the sender hears of it.
   */
  linkWithdrawn(id: string, peer: string): void {
    this.endLinkRecipients(id, peer, (m, rc, now) => {
      // ALTRECIP: an expired ABY redirects the recipients that have an alternate, and only those.
      if (rc.arcpt && m.params.aby && m.params.aby.at <= now)
        return { redirect: true, status: { status: '4.4.7', text: `alternate-recipient deadline (ABY) passed before the radio link to ${peer} carried it`, at: now } };
      // RFC 2852: an R-mode BY ends every attempt for every recipient. Otherwise (ABY without an alternate)
      // the recipient keeps waiting for the link, in a new bundle without the redirected ones.
      if (m.params.by?.mode !== 'R' || m.params.by.at > now) return undefined;
      return { redirect: false, status: { status: '5.4.7', text: `delivery time (BY ${m.params.by.requestedSeconds} s, R) expired before the radio link to ${peer} carried it`, at: now } };
    });
  }

  /**
   * The peer refused the message for good (REFUSE over the radio link): each recipient waiting for that link
   * fails with the peer's status, or goes to its alternate; the sender hears of it in one DSN.
   */
  linkRefused(id: string, peer: string, status: string, text: string): void {
    this.endLinkRecipients(id, peer, (_m, rc, now) => ({ redirect: !!rc.arcpt, status: { status, text: `refused by ${peer} over the radio link: ${text}`, at: now, remoteMta: peer } }));
  }

  /**
   * The radio link is done with a message: each recipient waiting for `peer` goes to its alternate, fails, or
   * (`undefined`) waits on; the transfer is forgotten, and the sender hears of it in one DSN, all in one transaction.
   */
  private endLinkRecipients(id: string, peer: string, end: (m: QueuedMessage, rc: Recipient, now: number) => { redirect: boolean; status: DeliveryStatus } | undefined): void {
    this.store.transaction(() => {
      const m = this.store.get(id);
      if (!m) return;
      const now = this.clock.now();
      const dsn: DsnRecipient[] = [];
      m.recipients.forEach((rc, idx) => {
        if (rc.state !== 'queued' || rc.route.kind !== 'link' || rc.route.target !== peer) return;
        const e = end(m, rc, now);
        if (!e) return;
        if (e.redirect) {
          const b = this.redirect(m, { messageId: id, idx, recipient: rc, attempts: 0 }, e.status, true);
          if (b) dsn.push(b);
          return;
        }
        this.store.record(id, idx, { state: 'failed', status: e.status });
        if (wantsDsn(rc.notify, 'failed')) dsn.push(block(rc, 'failed', e.status));
      });
      this.store.forgetLink(peer, id);
      if (dsn.length) this.sendDsn(m, dsn, now);
    });
  }

  /** Turns one result into the recipient's next state; returns the DSN block it owes, if any. */
  private decide(m: QueuedMessage, d: DueRecipient, r: AttemptResult, now: number): DsnRecipient | undefined {
    const rc = d.recipient;
    if (r.kind === 'delivered') {
      this.store.record(m.id, d.idx, { state: 'delivered', status: r.status });
      if (r.relayed) return block(rc, 'relayed', r.status, { nextHopNotifies: r.nextHopNotifies === true });
      return wantsDsn(rc.notify, 'delivered') && rc.route.kind !== 'smtp' && rc.route.kind !== 'mx' ? block(rc, 'delivered', r.status) : undefined;
    }
    const keepAlt = !!rc.arcpt;
    if (r.kind === 'permanent') {
      // An R-mode BY with no whole second left (the attempt found it over, as a hop would): it ends all
      // attempts, the alternate's too, as when it is found over before the attempt (RFC 2852 4.1.3).
      const byOver = m.params.by?.mode === 'R' && remainingSeconds(m.params.by, now) <= 0;
      if (keepAlt && !byOver) return this.redirect(m, d, r.status, true);
      this.store.record(m.id, d.idx, { state: 'failed', status: r.status });
      return wantsDsn(rc.notify, 'failed') && m.sender !== '' ? block(rc, 'failed', r.status) : undefined;
    }
    const first = d.firstAttemptAt ?? now;
    if (keepAlt && (r.unreachable || now - first >= this.policy.retry.altRecipWindowMs)) return this.redirect(m, d, r.status, true);
    if (now - first >= this.policy.retry.giveUpMs) {
      const status = { ...r.status, status: '5.4.7', text: `gave up after ${Math.round((now - first) / 3600_000)} h: ${r.status.text}` };
      this.store.record(m.id, d.idx, { state: 'failed', status });
      return wantsDsn(rc.notify, 'failed') ? block(rc, 'failed', status) : undefined;
    }
    // RFC 2852 4.1.3: past an N-mode deadline, keep trying and say so once with 4.4.7. The recipient keeps 4.4.7
    // from then on (with the latest reason), which is what says the DSN was sent: a later attempt that stored
    // the bare 4.x.x again would send it again.
    const by = m.params.by;
    const pastN = by?.mode === 'N' && by.at <= now;
    const late = pastN && rc.status?.status !== '4.4.7';
    const status = pastN ? { ...r.status, status: '4.4.7', text: `delivery time passed, still trying: ${r.status.text}` } : r.status;
    // The next try comes no later than a deadline that changes what happens: R-mode BY, or ABY for a redirect.
    let next = now + retryDelay(this.policy.retry, d.attempts + 1, m.priority.value);
    if (by?.mode === 'R') next = Math.min(next, by.at);
    if (rc.arcpt && m.params.aby) next = Math.min(next, m.params.aby.at);
    if (rc.arcpt) next = Math.min(next, first + this.policy.retry.altRecipWindowMs);
    this.store.record(m.id, d.idx, { state: 'queued', status, nextAttemptAt: Math.max(next, now + 1) });
    return late && wantsDsn(rc.notify, 'delayed') ? block(rc, 'delayed', status) : undefined;
  }

  private async deliver(m: QueuedMessage, route: Route, due: DueRecipient[], now: number): Promise<AttemptResult[]> {
    if (route.kind === 'maildir') {
      failpoint('before-delivery');
      // Final delivery: Return-Path carries the reverse-path (RFC 5321 4.4), `<>` for the null sender.
      this.maildir(route.target, m.content, now, `${m.id}-${due[0]!.idx}`, m.sender);
      failpoint('maildir-written'); // in the Maildir, not yet recorded as delivered
      return due.map(() => ({ kind: 'delivered', status: { status: '2.0.0', text: `delivered to ${route.target}`, at: now }, relayed: false }));
    }
    if (route.kind === 'link') throw new Error('link routes belong to the radio link');
    const hosts = route.kind === 'mx' ? await mxHosts(this.resolver, domain(due[0]!.recipient.address)) : [hostPort(route.target)];
    let lastError: unknown;
    for (const h of hosts) {
      try {
        return await this.smtp(m, route, h, due, now);
      } catch (err) {
        lastError = err; // the next MX, if any
      }
    }
    throw lastError;
  }

  private async smtp(m: QueuedMessage, route: Route, h: { host: string; port: number }, due: DueRecipient[], now: number): Promise<AttemptResult[]> {
    const client = await SmtpClient.open({
      host: h.host,
      port: h.port,
      helo: this.policy.hostname,
      lmtp: route.kind === 'lmtp',
      starttls: this.policy.starttls,
      timeouts: { connectMs: this.policy.connectTimeoutMs, greetingMs: this.policy.commandTimeoutMs, commandMs: this.policy.commandTimeoutMs, dataEndMs: this.policy.commandTimeoutMs * 2 },
    });
    try {
      const caps = hopCapabilities(client.capabilities);
      const plan = planReemission(
        { sender: m.sender, params: m.params, priority: m.priority, recipients: due.map((d) => d.recipient), contentSize: m.content.length, eightBit: m.content.some((b) => b > 127), now },
        caps,
      );
      const remote = h.host;
      if (plan.refuse) return due.map(() => ({ kind: 'permanent', status: { status: plan.status, text: plan.text, at: now, remoteMta: remote } }));
      // A hop that cannot take ARCPT leaves the redirect to us (decisions.md), and so does this loop.
      const content = plan.tunnelPriority !== undefined ? tunnelPriorityHeader(m.content, plan.tunnelPriority) : m.content;
      const r = await client.send({ from: m.sender, mailParams: plan.mailParams, recipients: due.map((d, i) => ({ address: d.recipient.address, params: plan.rcptParams[i]! })) }, content);
      return due.map((_, i) => {
        const reply = r.mail.code !== 250 ? r.mail : r.rcpt[i]!.code >= 300 ? r.rcpt[i]! : (r.perRecipientData?.[i] ?? r.data ?? r.rcpt[i]!);
        const result = resultFromReply(reply, now, remote, plan.relayedDsn.includes(i));
        // A hop with DSN was given NOTIFY: a "relayed" DSN must not promise silence (RFC 3461 5.2.2, RFC 3464 2.3.3).
        return result.kind === 'delivered' && result.relayed ? { ...result, nextHopNotifies: caps.dsn } : result;
      });
    } finally {
      // RFC 1047: the outcome is recorded as soon as the final reply is in, not after QUIT's answer, so that a
      // crash can duplicate a message only in the moment between that reply and our commit.
      void client.quit();
    }
  }

  /** ALTRECIP (decisions.md): the alternate becomes a new message to one recipient, with a trace header. */
  private redirect(m: QueuedMessage, d: DueRecipient, cause: DeliveryStatus, owed = false): DsnRecipient | undefined {
    const rc = d.recipient;
    const alt = rc.arcpt!;
    const route = this.policy.route(alt.address);
    if (!route) {
      this.store.record(m.id, d.idx, { state: 'failed', status: { ...cause, text: `${cause.text}; no route for the alternate ${alt.address}` } });
      return wantsDsn(rc.notify, 'failed') ? block(rc, 'failed', cause) : undefined;
    }
    const now = this.clock.now();
    const trace = `Alternate-Recipient-Of: <${rc.address}>; reason="${cause.status} ${cause.text.replace(/["\\\r\n]/g, ' ').slice(0, 200)}"; ${rfc5322Date(new Date(now))}\r\n`;
    const copy: QueuedMessage = {
      ...m,
      id: this.policy.newId(),
      recipients: [
        { address: alt.address, notify: rc.notify, orcpt: rc.orcpt ?? { type: 'rfc822', address: rc.address }, route, state: 'queued' } satisfies Recipient,
      ],
      content: Buffer.concat([Buffer.from(trace, 'utf8'), m.content]),
    };
    this.store.insert(copy);
    this.store.record(m.id, d.idx, { state: 'redirected', status: { ...cause, text: `redirected to ${alt.address}: ${cause.text}` } });
    this.kick();
    const block0 = block(rc, 'relayed', cause, { redirectedTo: alt.address });
    const dsn = rc.notify !== 'NEVER' && (rc.notify === null || rc.notify.includes('FAILURE') || rc.notify.includes('SUCCESS')) ? block0 : undefined;
    if (!owed && dsn) this.sendDsn(m, [dsn], now);
    return owed ? dsn : undefined;
  }

  private fail(m: QueuedMessage, d: DueRecipient, status: DeliveryStatus): void {
    this.store.record(m.id, d.idx, { state: 'failed', status });
    if (wantsDsn(d.recipient.notify, 'failed')) this.sendDsn(m, [block(d.recipient, 'failed', status)], status.at);
  }

  /** RFC 3464 multipart/report to the sender, at the message's priority; never for a null sender. */
  private sendDsn(m: QueuedMessage, recipients: DsnRecipient[], now: number): void {
    if (m.sender === '') return;
    const route = this.policy.route(m.sender);
    if (!route) {
      this.log.warn({ msgId: m.id, to: m.sender }, 'no route for a DSN; dropped');
      return;
    }
    const id = this.policy.newId();
    const failed = recipients.some((r) => r.action === 'failed');
    const full = failed && m.params.ret === 'FULL';
    const content = buildDsn({
      reportingMta: this.policy.hostname,
      reportingMtaType: this.policy.hostname.includes('.') ? 'dns' : 'x-local-hostname',
      ...(m.params.envid !== undefined ? { envid: m.params.envid } : {}),
      arrival: new Date(m.receivedAt),
      // RFC 2852: the sender's deadline, arrival plus the by-time asked for. After the radio hop `by.at` is
      // re-anchored here with a latency allowance; receivedAt and the requested seconds travel unchanged.
      ...(m.params.by ? { deliverBy: new Date(m.receivedAt + m.params.by.requestedSeconds * 1000) } : {}),
      recipients,
      original: full ? m.content : m.content.subarray(0, headerEnd(m.content)),
      returnFull: full,
      to: m.sender,
      date: new Date(now),
      messageId: `${id}@${this.policy.hostname}`,
      boundary: `${id}/${this.policy.hostname}`,
    });
    this.store.insert({
      id,
      receivedAt: now,
      sender: '',
      // RFC 6533: a report to or about a UTF-8 address is a UTF-8 message; a returned UTF-8 header is 8-bit.
      params: { smtputf8: isGlobalDsn({ to: m.sender, recipients }), ...(content.some((b) => b > 127) ? { body: '8BITMIME' as const } : {}) },
      priority: { value: m.priority.value, source: 'policy' },
      recipients: [{ address: m.sender, notify: 'NEVER', route, state: 'queued' }],
      submitter: { clientAddress: '127.0.0.1', clientHostname: '', helo: this.policy.hostname, trusted: true },
      content,
    });
    this.kick();
  }
}

/** The fault key of the queue's own store (destinations are keyed by route). */
const QUEUE = 'queue';

function block(rc: Recipient, action: DsnRecipient['action'], status: DeliveryStatus, more?: Pick<DsnRecipient, 'redirectedTo' | 'nextHopNotifies'>): DsnRecipient {
  return {
    finalRecipient: rc.address,
    ...(rc.orcpt ? { originalRecipient: rc.orcpt } : {}),
    action,
    status: status.status,
    ...(status.remoteMta ? { remoteMta: status.remoteMta } : {}),
    ...(status.remoteReply ? { diagnostic: status.remoteReply } : {}),
    lastAttempt: new Date(status.at),
    ...more,
  };
}

/** Due recipients grouped by message and destination, in the order the queue gave them (highest priority first). */
function groups(due: DueRecipient[]): Group[] {
  const out = new Map<string, Group>();
  for (const d of due) {
    const rc = d.recipient;
    const destination = `${rc.route.kind}\0${rc.route.target}\0${rc.route.kind === 'mx' ? domain(rc.address) : ''}`;
    const key = `${d.messageId}\0${destination}`;
    let g = out.get(key);
    if (!g) out.set(key, (g = { messageId: d.messageId, route: rc.route, destination, due: [] }));
    g.due.push(d);
  }
  return [...out.values()];
}

function domain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function hostPort(target: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: target, port: 25 };
}

/** RFC 5321 5.1: MX hosts by preference, or the domain itself when it has none. */
async function mxHosts(resolver: dns.Resolver, d: string): Promise<{ host: string; port: number }[]> {
  try {
    const mx = await resolver.resolveMx(d);
    if (mx.length) return mx.sort((a, b) => a.priority - b.priority).map((r) => ({ host: r.exchange, port: 25 }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENODATA') throw err;
  }
  return [{ host: d, port: 25 }];
}

