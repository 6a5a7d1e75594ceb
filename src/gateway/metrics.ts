import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { LinkEvent, LinkStation } from '../link/index.ts';
import type { QueueDepth } from '../queue/index.ts';
import type { DeliveryStore } from '../relay/index.ts';

export type LinkSnapshot = ReturnType<LinkStation['snapshot']>;

/** What the metrics read at scrape time: the queue's aggregates and the links' snapshots. */
export interface MetricsSource {
  readonly station: string;
  depth(): readonly QueueDepth[];
  links(): readonly { peer: string; station?: LinkStation }[];
  now(): number;
}

/**
 * The station's Prometheus metrics (`/metrics`), in a registry of its own: two gateways in one process (the demo)
 * never share a counter. Counters move through the methods below, which the gateway calls from the seams it wires
 * (the SMTP front end's replies and stored messages, the relay's outcomes, the link's events); gauges are read
 * from SQL aggregates and link snapshots when scraped, so an idle station costs nothing.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly accepted: Counter<'priority'>;
  private readonly outcomes: Counter<'outcome' | 'priority' | 'via'>;
  private readonly dsns: Counter;
  private readonly replies: Counter<'code'>;
  private readonly airBytes: Counter<'peer'>;
  private readonly airSeconds: Counter<'peer'>;
  private readonly overs: Counter<'peer'>;
  private readonly linkEvents: Counter<'peer' | 'event'>;
  private depth?: { at: number; rows: readonly QueueDepth[] };
  /** Retransmissions already counted, per link station object (a reopened link starts a new one at 0). */
  private readonly retransmitted = new WeakMap<LinkStation, number>();

  constructor(source: MetricsSource, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ station: source.station });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.accepted = new Counter({ name: 'hfmail_messages_accepted_total', help: 'Messages accepted over SMTP (250 after DATA), by priority', labelNames: ['priority'], registers });
    this.outcomes = new Counter({
      name: 'hfmail_recipient_outcomes_total',
      help: 'Final recipient outcomes: delivered (via relay: Maildir, LMTP, SMTP; via link: in the peer\'s custody), failed, redirected (ALTRECIP), by priority',
      labelNames: ['outcome', 'priority', 'via'],
      registers,
    });
    this.dsns = new Counter({ name: 'hfmail_dsns_generated_total', help: 'Delivery status notifications (RFC 3464) this station generated', registers });
    this.replies = new Counter({ name: 'hfmail_smtp_replies_total', help: 'SMTP replies the front end sent, by reply code', labelNames: ['code'], registers });
    this.airBytes = new Counter({ name: 'hfmail_link_air_bytes_total', help: 'Bytes this station put on the air (frames of its overs), by peer', labelNames: ['peer'], registers });
    this.airSeconds = new Counter({ name: 'hfmail_link_air_seconds_total', help: 'Seconds this station transmitted, by peer', labelNames: ['peer'], registers });
    this.overs = new Counter({ name: 'hfmail_link_overs_total', help: 'Overs (transmissions before handing the channel over), by peer', labelNames: ['peer'], registers });
    this.linkEvents = new Counter({ name: 'hfmail_link_events_total', help: 'Link events (up, custody, refused, expired, auth-failed, no-answer, ...), by peer', labelNames: ['peer', 'event'], registers });
    const retransmitted = this.retransmitted;
    new Counter({
      name: 'hfmail_link_retransmissions_total',
      help: 'Records sent again after a loss, by peer',
      labelNames: ['peer'],
      registers,
      collect() {
        for (const { peer, station } of source.links()) {
          if (!station) continue;
          const n = station.snapshot().retransmissions;
          const seen = retransmitted.get(station) ?? 0;
          if (n > seen) this.inc({ peer }, n - seen);
          retransmitted.set(station, n);
        }
      },
    });
    const snapshots = () => source.links().map(({ peer, station }) => ({ peer, snap: station?.snapshot() }));
    new Gauge({
      name: 'hfmail_link_up',
      help: '1 when the link to the peer has a session (hello exchanged), else 0',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const { peer, snap } of snapshots()) this.set({ peer }, snap?.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hfmail_link_answer_delay_seconds',
      help: 'Measured delay from the end of an over to the start of the peer\'s answer',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const { peer, snap } of snapshots()) if (snap?.answerDelayMs != null) this.set({ peer }, snap.answerDelayMs / 1000);
      },
    });
    new Gauge({
      name: 'hfmail_link_loss_ratio',
      help: 'Measured share of frames lost on the link (absent until measured)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const { peer, snap } of snapshots()) if (snap?.lossRate != null) this.set({ peer }, snap.lossRate);
      },
    });
    new Gauge({
      name: 'hfmail_link_pending_messages',
      help: 'Messages the link holds for the peer (waiting, on the air or awaiting custody)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const { peer, snap } of snapshots()) if (snap) this.set({ peer }, snap.pending);
      },
    });
    // One SQL aggregate serves both queue gauges: the first collect of a scrape runs it, the second reuses it.
    const readDepth = () => {
      const t = Date.now();
      if (!this.depth || t - this.depth.at > 500) this.depth = { at: t, rows: source.depth() };
      return this.depth.rows;
    };
    new Gauge({
      name: 'hfmail_queue_messages',
      help: 'Messages with a recipient queued (not held, not final), by priority',
      labelNames: ['priority'],
      registers,
      collect() {
        this.reset();
        for (const d of readDepth()) this.set({ priority: String(d.priority) }, d.messages);
      },
    });
    new Gauge({
      name: 'hfmail_queue_oldest_age_seconds',
      help: 'Age of the oldest message with a queued recipient, by priority',
      labelNames: ['priority'],
      registers,
      collect() {
        this.reset();
        const now = source.now();
        for (const d of readDepth()) this.set({ priority: String(d.priority) }, Math.max(0, (now - d.oldestReceivedAt) / 1000));
      },
    });
  }

  /** A message stored after DATA. */
  messageAccepted(priority: number): void {
    this.accepted.inc({ priority: String(priority) });
  }

  /** A recipient reached a final state (others, like a retry, are not counted). */
  recipientOutcome(state: string, priority: number | undefined, via: 'relay' | 'link'): void {
    if (state !== 'delivered' && state !== 'failed' && state !== 'redirected') return;
    this.outcomes.inc({ outcome: state, priority: priority === undefined ? 'unknown' : String(priority), via });
  }

  dsnGenerated(): void {
    this.dsns.inc();
  }

  smtpReply(code: number): void {
    this.replies.inc({ code: String(code) });
  }

  linkEvent(peer: string, e: LinkEvent): void {
    if (e.type === 'segment' || e.type === 'rejected-frame') return;
    if (e.type === 'over') {
      this.airBytes.inc({ peer }, e.bytes);
      this.airSeconds.inc({ peer }, e.airMs / 1000);
      this.overs.inc({ peer });
      return;
    }
    this.linkEvents.inc({ peer, event: e.type });
  }

  /** The text a scrape gets, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    this.depth = undefined; // read afresh for every scrape
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * The relay's view of the queue with its outcomes counted: a final state recorded for a recipient, and a DSN
 * (a message from the null sender) inserted. The relay itself knows nothing of metrics.
 */
export function meteredDelivery(store: DeliveryStore, metrics: GatewayMetrics, priorityOf: (id: string) => number | undefined): DeliveryStore {
  return {
    due: (now) => store.due(now),
    nextDueAt: () => store.nextDueAt(),
    record: (id, idx, outcome, attempted) => {
      store.record(id, idx, outcome, attempted);
      metrics.recipientOutcome(outcome.state, priorityOf(id), 'relay');
    },
    get: (id) => store.get(id),
    insert: (m) => {
      store.insert(m);
      if (m.sender === '') metrics.dsnGenerated();
    },
    transaction: (fn) => store.transaction(fn),
    forgetLink: (peer, id) => store.forgetLink(peer, id),
  };
}
