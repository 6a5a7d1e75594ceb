import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import {
  newMessageId,
  type Clock,
  type Deadline,
  type QueuedMessage,
  type Random,
  type Recipient,
  type Route,
} from '../core/index.ts';
import {
  countReceived,
  determinePriority,
  extensionKeywords,
  headerFields,
  internalLevel,
  isParamError,
  levelLabel,
  mtPriorityHeaderValues,
  replaceMtPriority,
  parseMailCommand,
  parseRcptCommand,
  receivedField,
  withProtocol,
  domainOf,
  type AdvertisedExtensions,
  type RcptCommand,
  type PolicyName,
  type PriorityBand,
} from '../mail/index.ts';
import { extendServer } from './esmtp-adapter.ts';
import { readMessage } from './data-reader.ts';
import { paramRefusal, refusal, SmtpRefusal, storageRefusal, success, type SmtpReply } from './replies.ts';
import { FrontDoor, type FrontDoorPolicy } from './front-door.ts';
import type { BudgetHolder } from './memory-budget.ts';
import type { SessionState, Transaction } from './transaction.ts';
import { clientGoneFields, isClientGone, smtpServerLogger } from './server-logger.ts';

/** Where accepted mail goes: the queue implements it; `insert` returns (or resolves) once the message is durable. */
export interface MessageSink {
  insert(message: QueuedMessage): void | Promise<void>;
}

export interface FrontEndPolicy extends FrontDoorPolicy {
  readonly hostname: string;
  readonly policy: PolicyName;
  readonly draftKeyword: boolean;
  readonly bands: readonly PriorityBand[];
  readonly minAccepted: number;
  /** Largest message per policy level (RFC 6710 section 5). */
  readonly maxSizeByLevel: ReadonlyMap<number, number>;
  readonly deliverByMin: number;
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  readonly maxReceived: number;
  /** Pause before greeting an untrusted client, to catch those that talk first (0 greets at once). */
  readonly untrustedGreetingDelayMs: number;
  readonly trustedCeiling: number;
  isTrusted(address: string): boolean;
  /** The user's priority ceiling when the credentials are right, else null (taking as long for an unknown user). */
  authenticate(user: string, password: string): Promise<number | null>;
  readonly authEnabled: boolean;
  readonly tls?: { key: Buffer; cert: Buffer };
  /** The configured route for a recipient, or null when none matches. */
  route(address: string): Route | null;
  /**
   * For postmaster, bare or at a local domain or our host name (RFC 5321 4.5.1): the address it is delivered to and
   * its route; null for any other address.
   */
  postmaster(address: string): { address: string; route: Route } | null;
}

export interface FrontEndDeps {
  readonly policy: FrontEndPolicy;
  readonly sink: MessageSink;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Called after a message is stored (the relay looks at the queue then). */
  readonly onStored?: (message: QueuedMessage) => void;
  /**
   * Deadline-aware admission: about how many ms until a message of `priority` and about `size` bytes would be
   * delivered over `route`, from what is queued ahead of it and the route's measured rate; undefined when it
   * cannot be told (not a radio link, or the link is down). An R-mode BY or ABY it cannot meet is refused at RCPT.
   */
  readonly estimateDelivery?: (route: Route, priority: number, size: number | undefined) => number | undefined;
}

type Session = SMTPServerSession & SessionState;

/** Inbound SMTP: parses and polices the extensions, then hands complete messages to the sink. */
export class SmtpFrontEnd {
  readonly server: SMTPServer;
  private readonly ext: AdvertisedExtensions;
  readonly door: FrontDoor;

  constructor(private readonly deps: FrontEndDeps) {
    const p = deps.policy;
    this.door = new FrontDoor(p, deps.clock, deps.log);
    this.ext = {
      size: p.maxMessageSize,
      eightBitMime: true,
      smtpUtf8: true,
      dsn: true,
      deliverByMin: p.deliverByMin,
      mtPriority: p.policy,
      draftPriority: p.draftKeyword,
      altRecip: true, // decisions.md: only with DSN and DELIVERBY, which are always on
      auth: p.authEnabled,
    };
    this.server = new SMTPServer({
      name: p.hostname,
      banner: 'hfmail ESMTP',
      size: p.maxMessageSize,
      rejectOversized: true,
      maxRecipients: p.maxRecipients,
      hideDSN: false,
      hideENHANCEDSTATUSCODES: false,
      hidePIPELINING: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: [...(p.authEnabled ? [] : ['AUTH']), ...(p.tls ? [] : ['STARTTLS'])],
      allowInsecureAuth: true, // the front door decides (TLS first, loopback by choice), with RFC 4954's 538 5.7.11
      hideSTARTTLS: !p.tls,
      ...(p.tls ? { key: p.tls.key, cert: p.tls.cert } : {}),
      logger: smtpServerLogger(deps.log.child({ component: 'smtp-server' })),
      onConnect: (session, cb) => cb(this.door.admit(session)),
      onClose: (session) => this.door.leave(session),
      onAuth: (auth, session, cb) =>
        void this.onAuth(auth, session as Session, cb).catch((err: unknown) => {
          deps.log.error({ err, client: session.remoteAddress }, 'AUTH could not be checked');
          cb(new SmtpRefusal(refusal('auth-unavailable', 'Temporary authentication failure')));
        }),
      onMailFrom: (_address, session, cb) => cb(this.checkMail(session as Session)),
      onRcptTo: (_address, session, cb) => cb(this.checkRcpt(session as Session)),
      onData: (stream, session, cb) => {
        const held = this.door.budget.holder();
        this.onData(stream, session as Session, held)
          .finally(() => held.release())
          .then(
            (text) => cb(null, text),
            (err: Error) => cb(err),
          );
      },
    });
    extendServer(this.server, {
      ehloKeywords: () => extensionKeywords(this.ext),
      preflight: (verb, line, session) => {
        if (line === null) return { refuse: refusal('command-syntax', 'Command is not valid UTF-8') };
        const s = session as Session;
        const outcome = verb === 'MAIL' ? this.preflightMail(line, s) : this.preflightRcpt(line, s);
        return 'code' in outcome ? { refuse: outcome } : outcome;
      },
      // Early-talker detection is worth a pause only for clients we do not know (bulk senders that skip the
      // greeting); trusted networks and authenticated submitters are greeted at once.
      offerAuth: (session) => this.door.offerAuth(session),
      authRefusal: (session) => this.door.authRefusal(session),
      greetingDelayMs: (address) => (this.deps.policy.isTrusted(address) ? 0 : p.untrustedGreetingDelayMs),
      mailAccepted: (session) => {
        const tx = (session as Session).hfTransaction;
        if (tx?.priorityChange) return success('2.3.6', `${tx.priority.value} ${tx.priorityChange}`);
        return success('2.1.0', `<${tx?.mail.sender ?? ''}> sender ok`);
      },
    });
    // A client that resets or drops mid-session is routine on any public port: one info line, no stack.
    // Before listening, an error is listen()'s to report (a port in use gets one clear line from the CLI, no stack here).
    this.server.on('error', (err) => {
      if (!this.server.server.listening) return;
      if (isClientGone(err)) deps.log.info(clientGoneFields(err), 'client disconnected');
      else deps.log.warn({ err }, 'smtp server error');
    });
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new Error(`cannot listen on ${host}:${port}: the port is in use (another hfmail or mail server?); choose another with --listen or listen:`) : err);
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        const addr = this.server.server.address();
        resolve(typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : { host, port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private ceiling(session: Session): number {
    if (session.hfUserCeiling !== undefined) return session.hfUserCeiling;
    return this.deps.policy.isTrusted(session.remoteAddress) ? this.deps.policy.trustedCeiling : 0;
  }

  private async onAuth(auth: SMTPServerAuthentication, session: Session, cb: (err: Error | null | undefined, res?: { user: string }) => void): Promise<void> {
    const ceiling = auth.username && auth.password !== undefined ? await this.deps.policy.authenticate(auth.username, auth.password ?? '') : null;
    if (ceiling === null) {
      // Answered late, later for each recent failure from this address (the guard logs it, without the password).
      await this.door.authGuard.failed(session.remoteAddress, auth.username ?? '', auth.method);
      cb(new SmtpRefusal(refusal('auth-invalid', 'Authentication credentials invalid')));
      return;
    }
    session.hfUserCeiling = ceiling;
    cb(null, { user: auth.username! });
  }

  /**
   * MAIL FROM grammar, then RFC 6710 priority determination, congestion mode and per-priority size. On success
   * smtp-server gets a stand-in line: our grammar is the authority on paths and parameters.
   */
  private preflightMail(line: string, session: Session): SmtpReply | { line: string } {
    session.hfPendingMail = undefined;
    if (session.envelope.mailFrom) return { line: 'MAIL FROM:<>' }; // smtp-server answers 503 nested MAIL
    const full = this.door.storageRefusal();
    if (full) return full;
    const receivedAt = this.deps.clock.now();
    const mail = parseMailCommand(line, this.ext, receivedAt);
    if (isParamError(mail)) return paramRefusal(mail, 'MAIL');
    const p = this.deps.policy;
    const decision = determinePriority({
      ...(mail.priorityRequest ? { request: mail.priorityRequest } : {}),
      ceiling: this.ceiling(session),
      trustHeader: false, // no header yet; DATA looks at it when no parameter was given
      bands: p.bands,
      policy: p.policy,
    });
    const problem = this.checkPriority(decision.priority.value, mail.params.size);
    if (problem) return problem;
    if (mail.params.size !== undefined && mail.params.size > p.maxMessageSize)
      return refusal('too-big', `Message size exceeds fixed limit of ${p.maxMessageSize} bytes`);
    const tx: Transaction = { receivedAt, mail, priority: decision.priority, recipients: new Map() };
    if (decision.change) tx.priorityChange = decision.change;
    session.hfPendingMail = tx; // becomes the transaction only once smtp-server accepts MAIL too
    return { line: `MAIL FROM:<${mail.sender === '' ? '' : 'sender@hfmail.invalid'}>${mail.params.smtputf8 ? ' SMTPUTF8' : ''}` };
  }

  /** RFC 6710 4.1 congestion mode (450 4.7.15) and RFC 6710 section 5 size per priority (552 5.7.16). */
  private checkPriority(value: number, size: number | undefined): SmtpReply | null {
    const p = this.deps.policy;
    if (value < p.minAccepted) return refusal('priority-too-low', `Priority level is too low: ${value}; accepting ${p.minAccepted} and above`);
    const cap = p.maxSizeByLevel.get(internalLevel(value, p.policy));
    if (cap !== undefined && size !== undefined && size > cap)
      return refusal('too-big-for-priority', `Message is too big for the specified priority (${levelLabel(value, p.policy)}: at most ${cap} bytes)`);
    return null;
  }

  private checkMail(session: Session): SmtpRefusal | null {
    const tx = session.hfPendingMail;
    session.hfPendingMail = undefined;
    if (!tx) return new SmtpRefusal(refusal('command-syntax', 'MAIL FROM was not understood'));
    session.hfTransaction = tx;
    return null;
  }

  private preflightRcpt(line: string, session: Session): SmtpReply | { line: string } {
    const tx = session.hfTransaction;
    if (!tx || !session.envelope.mailFrom) return { line: 'RCPT TO:<nobody@hfmail.invalid>' }; // 503 need MAIL
    const given = parseRcptCommand(line, this.ext, tx.mail.params.smtputf8);
    if (isParamError(given)) return paramRefusal(given, 'RCPT');
    // RFC 5321 4.5.1: postmaster is accepted from anyone, whatever the routes; an alias keeps the original as ORCPT.
    const postmaster = this.deps.policy.postmaster(given.recipient);
    const rcpt = postmaster && postmaster.address !== given.recipient ? { ...given, recipient: postmaster.address, orcpt: given.orcpt ?? { type: 'rfc822', address: given.recipient } } : given;
    const route = postmaster ? postmaster.route : this.deps.policy.route(rcpt.recipient);
    const local = route && (route.kind === 'maildir' || route.kind === 'lmtp');
    if (!route || (!local && !postmaster && !this.mayRelay(session)))
      return refusal('relay-denied', `Relay access denied for <${rcpt.recipient}>: ${route ? 'not a local domain' : `no route for ${domainOf(rcpt.recipient)}`}`);
    const key = rcpt.recipient.toLowerCase();
    const index = [...tx.recipients.keys()].indexOf(key);
    if (index < 0 && tx.recipients.size >= this.deps.policy.maxRecipients) return refusal('too-many-recipients', 'Too many recipients');
    const late = this.unmeetableDeadline(tx, rcpt, route, session);
    if (late) return late;
    tx.pendingRcpt = { rcpt, route };
    // A distinct stand-in per recipient keeps smtp-server's own count and duplicate handling in step with ours.
    return { line: `RCPT TO:<r${index < 0 ? tx.recipients.size : index}@hfmail.invalid>` };
  }

  /**
   * Refuses (455 4.4.7, RFC 2852 section 4) a recipient whose R-mode BY cannot be met on its route with what is
   * queued ahead at its priority, or whose R-mode ABY cannot be met on its alternate's route; an N-mode deadline
   * that will be missed is only logged (the message is still wanted late). No estimate, no refusal.
   */
  private unmeetableDeadline(tx: Transaction, rcpt: RcptCommand, route: Route, session: Session): SmtpReply | null {
    const estimate = this.deps.estimateDelivery;
    if (!estimate) return null;
    const now = this.deps.clock.now();
    const checks: { name: 'BY' | 'ABY'; deadline: Deadline | undefined; route: Route | null; to: string }[] = [
      { name: 'BY', deadline: tx.mail.params.by, route, to: rcpt.recipient },
      ...(rcpt.arcpt ? [{ name: 'ABY' as const, deadline: tx.mail.params.aby, route: this.deps.policy.route(rcpt.arcpt.address), to: rcpt.arcpt.address }] : []),
    ];
    for (const c of checks) {
      if (!c.deadline || !c.route) continue;
      const ms = estimate(c.route, tx.priority.value, tx.mail.params.size);
      if (ms === undefined || now + ms <= c.deadline.at) continue;
      const eta = Math.ceil(ms / 1000);
      const left = Math.max(0, Math.floor((c.deadline.at - now) / 1000));
      const via = c.route.kind === 'link' ? `the radio link to ${c.route.target}` : c.route.kind;
      if (c.deadline.mode === 'R')
        return refusal('deadline-unmeetable', `<${c.to}> cannot be delivered within ${c.name}: about ${eta} s on ${via} with what is queued ahead at priority ${tx.priority.value}, ${left} s allowed`);
      this.deps.log.info({ rcpt: c.to, client: session.remoteAddress, etaSeconds: eta, allowedSeconds: left, priority: tx.priority.value }, `${c.name} (N mode) will likely be missed; accepted, to be delivered late`);
    }
    return null;
  }

  private mayRelay(session: Session): boolean {
    return session.hfUserCeiling !== undefined || this.deps.policy.isTrusted(session.remoteAddress);
  }

  private checkRcpt(session: Session): SmtpRefusal | null {
    const tx = session.hfTransaction;
    const pending = tx?.pendingRcpt;
    if (!tx || !pending) return new SmtpRefusal(refusal('command-syntax', 'RCPT TO was not understood'));
    tx.pendingRcpt = undefined;
    tx.recipients.set(pending.rcpt.recipient.toLowerCase(), pending);
    return null;
  }

  /** Reads the message, checks it, prepends our Received line and stores it; resolves to the 250 text. */
  private async onData(stream: import('node:stream').Readable, session: Session, budget: BudgetHolder): Promise<string> {
    const tx = session.hfTransaction;
    session.hfTransaction = undefined; // whatever the outcome, this transaction is over
    if (!tx) throw new SmtpRefusal(refusal('command-syntax', 'No transaction'));
    const p = this.deps.policy;
    const read = await readMessage(stream, p.maxMessageSize, budget);
    if (read.overBudget) throw new SmtpRefusal(refusal('memory-full', 'Insufficient system storage: too much mail arriving at once; try again later'));
    if (read.size > p.maxMessageSize) throw new SmtpRefusal(refusal('too-big', `Message exceeds fixed limit of ${p.maxMessageSize} bytes`));
    if (read.bareLineEnding) throw new SmtpRefusal(refusal('bare-line-ending', 'Message contains a bare CR or LF; lines must end with CRLF (RFC 5321 2.3.8)'));
    if (read.eightBit && tx.mail.params.body !== '8BITMIME' && !tx.mail.params.smtputf8)
      throw new SmtpRefusal(refusal('non-ascii-content', '8-bit data requires BODY=8BITMIME or SMTPUTF8'));

    const fields = headerFields(read.content);
    const received = countReceived(fields);
    if (received >= p.maxReceived) throw new SmtpRefusal(refusal('loop', `Routing loop detected: ${received} Received header fields`));

    let priority = tx.priority;
    let change = undefined as string | undefined;
    if (priority.source === 'policy' && !tx.mail.priorityRequest) {
      // RFC 6758 3.1 step 4a: a single valid MT-Priority: header, honoured only from trusted sources.
      const decision = determinePriority({ headerValues: mtPriorityHeaderValues(fields), ceiling: this.ceiling(session), trustHeader: this.mayRelay(session), bands: p.bands, policy: p.policy });
      priority = decision.priority;
      change = decision.change;
    }
    const problem = this.checkPriority(priority.value, read.size);
    if (problem) throw new SmtpRefusal(problem);
    const content = this.priorityHeaderAsDetermined(read.content, fields, priority.value, session);

    const id = newMessageId(this.deps.clock, this.deps.random);
    const recipients = [...tx.recipients.values()];
    const trace = receivedField({
      helo: session.hostNameAppearsAs || 'unknown',
      clientAddress: session.remoteAddress,
      by: p.hostname,
      protocol: withProtocol({ esmtp: session.openingCommand !== 'HELO', tls: !!session.secure, auth: session.hfUserCeiling !== undefined, utf8: tx.mail.params.smtputf8 }),
      id,
      recipients: recipients.map((r) => r.rcpt.recipient),
      priority: priority.value,
      date: new Date(this.deps.clock.now()),
    });
    const message: QueuedMessage = {
      id,
      receivedAt: tx.receivedAt,
      sender: tx.mail.sender,
      params: tx.mail.params,
      priority,
      recipients: recipients.map(({ rcpt, route }): Recipient => ({
        address: rcpt.recipient,
        notify: rcpt.notify,
        ...(rcpt.orcpt ? { orcpt: rcpt.orcpt } : {}),
        ...(rcpt.arcpt ? { arcpt: rcpt.arcpt } : {}),
        route,
        state: 'queued',
      })),
      submitter: {
        clientAddress: session.remoteAddress,
        clientHostname: session.clientHostname,
        helo: session.hostNameAppearsAs,
        ...(typeof session.user === 'string' && session.user ? { user: session.user } : {}),
        trusted: this.mayRelay(session),
      },
      content: Buffer.concat([Buffer.from(trace, 'utf8'), content]),
    };
    const log = this.deps.log.child({ msgId: id, priority: priority.value, client: session.remoteAddress });
    try {
      await this.deps.sink.insert(message); // committed and fsync'd (with others that ended together): the 250 below means the message is on disk
    } catch (err) {
      log.error({ err }, 'could not store message');
      throw new SmtpRefusal(storageRefusal(err)); // 452 4.3.1 for a full disk, else 451 4.3.0
    }
    log.info({ from: message.sender, rcpts: message.recipients.length, size: message.content.length, source: priority.source }, 'message accepted');
    this.deps.onStored?.(message);
    if (change) return success('2.3.6', `${priority.value} ${change}; queued as ${id}`);
    return success('2.6.0', `Message accepted, queued as ${id}`);
  }

  /**
   * RFC 6758 3.1: an MT-Priority: field the determined priority does not stand behind (from an untrusted client,
   * or above what was granted) is rewritten to the determined value, so no later hop acts on it.
   */
  private priorityHeaderAsDetermined(content: Buffer, fields: [string, string][], value: number, session: Session): Buffer {
    const values = mtPriorityHeaderValues(fields);
    if (!values.length || (values.length === 1 && values[0] === value)) return content;
    if (this.mayRelay(session) && values.every((v) => v !== null && v <= value)) return content;
    return replaceMtPriority(content, value);
  }
}
