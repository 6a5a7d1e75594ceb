import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Deadline, DeliveryStatus, Notify, TypedAddress } from '../core/index.ts';
import { levelLabel, remainingSeconds } from '../mail/index.ts';
import { MessageStore, QUEUE_DB_FILE, type OperatorStatus, type OperatorSummary } from '../queue/index.ts';
import { deliveryEstimateMs, expectedBundleBytes, type DeliveryModel } from '../link/index.ts';
import { readGatewayStatus } from './status-file.ts';
import type { StationSettings } from './station.ts';

/** One message not yet done (queued, held or corrupt) as `hfmail queue` shows it (and prints as JSON). */
export interface QueueEntry {
  id: string;
  /** Why a corrupt message cannot be decoded (what could be read of it is shown). */
  problem?: string;
  priority: { value: number; source: string; requested?: number; level: string; label: string };
  size: number;
  sender: string;
  envid?: string;
  ret?: string;
  body?: string;
  smtputf8: boolean;
  declaredSize?: number;
  by: DeadlineView | null;
  aby: DeadlineView | null;
  receivedAt: string;
  ageSeconds: number;
  submitter: { clientAddress: string; helo: string; user?: string; trusted: boolean };
  /**
   * About when the message should be in the custody of the radio link's peer, from what goes before it and the
   * running gateway's measured link (the same estimate as admission at RCPT); absent while the link is down.
   */
  eta?: { peer: string; seconds: number };
  recipients: {
    address: string;
    notify: string | null;
    orcpt?: string;
    arcpt?: string;
    route: string;
    state: string;
    status?: { status: string; text: string; at: string; remoteReply?: string; remoteMta?: string };
    /** A held recipient: who held it and why. */
    held?: { by: string; reason: string };
    /** A corrupt recipient: why its message cannot be decoded. */
    corrupt?: { error: string };
  }[];
}

interface DeadlineView {
  deadline: string;
  mode: string;
  trace: boolean;
  requestedSeconds: number;
  remainingSeconds: number;
}

export function queueSnapshot(settings: StationSettings, now = Date.now()): QueueEntry[] {
  const view = openQueueView(settings);
  try {
    return [...view.entries(Infinity, now)];
  } finally {
    view.close();
  }
}

/** The queue as `hfmail queue` reads it: entries a page at a time and counts from aggregates. Close it after use. */
export interface QueueView {
  /** Messages not yet done (queued, held, corrupt), in sending order, at most `limit`. */
  entries(limit: number, now?: number): Generator<QueueEntry>;
  /** How many messages entries() would give without a limit. */
  total(): number;
  close(): void;
}

export function openQueueView(settings: StationSettings): QueueView {
  const { config, baseDir } = settings;
  const dataDir = path.resolve(baseDir, config.data);
  // Listing must not create a queue: a mistyped folder is an error, not an empty queue.
  if (!existsSync(path.join(dataDir, QUEUE_DB_FILE))) throw new Error(`no queue in ${dataDir} (has a gateway run with this data folder?)`);
  const store = MessageStore.open(dataDir);
  const labels = config.priority.labels;
  // Held and corrupt messages too, so the operator sees them and why; an undecodable one does not stop the listing.
  const toEntry = (m: OperatorSummary, now: number): QueueEntry => {
    const level = levelLabel(m.priority.value, config.priority.policy);
    const entry: QueueEntry = {
      id: m.id,
      ...(m.problem !== undefined ? { problem: m.problem } : {}),
      priority: {
        value: m.priority.value,
        source: m.priority.source,
        ...(m.priority.requested !== undefined ? { requested: m.priority.requested } : {}),
        level,
        label: labels[String(m.priority.value)] ?? level,
      },
      size: m.size,
      sender: m.sender,
      smtputf8: m.params.smtputf8,
      by: deadlineView(m.params.by, now),
      aby: deadlineView(m.params.aby, now),
      receivedAt: new Date(m.receivedAt).toISOString(),
      ageSeconds: Math.max(0, Math.floor((now - m.receivedAt) / 1000)),
      submitter: {
        clientAddress: m.submitter.clientAddress,
        helo: m.submitter.helo,
        ...(m.submitter.user ? { user: m.submitter.user } : {}),
        trusted: m.submitter.trusted,
      },
      recipients: m.recipients.map((r) => ({
        address: r.address,
        notify: notifyText(r.notify),
        ...(r.orcpt ? { orcpt: typed(r.orcpt) } : {}),
        ...(r.arcpt ? { arcpt: typed(r.arcpt) } : {}),
        route: r.route.kind === 'mx' ? 'mx' : `${r.route.kind}:${r.route.target}`,
        state: r.state,
        ...(r.status ? statusView(r.status) : {}),
      })),
    };
    if (m.params.envid !== undefined) entry.envid = m.params.envid;
    if (m.params.ret) entry.ret = m.params.ret;
    if (m.params.body) entry.body = m.params.body;
    if (m.params.size !== undefined) entry.declaredSize = m.params.size;
    return entry;
  };
  return {
    *entries(limit, now = Date.now()) {
      // Bytes ahead on each link, in sending order: what the estimate for the next message waits behind.
      const models = runningLinkModels(dataDir, now);
      const ahead = new Map<string, number>();
      for (const m of store.operator.iterate(limit)) {
        const entry = toEntry(m, now);
        const peer = m.recipients.find((r) => r.state === 'queued' && r.route.kind === 'link')?.route.target;
        const model = peer === undefined ? undefined : models.get(peer);
        if (peer !== undefined && model) {
          const bytes = (ahead.get(peer) ?? 0) + expectedBundleBytes(m.size); // as admission counts it
          ahead.set(peer, bytes);
          entry.eta = { peer, seconds: Math.ceil(deliveryEstimateMs(bytes, model) / 1000) };
        }
        yield entry;
      }
    },
    total: () => store.operator.unfinishedCount(),
    close: () => store.close(),
  };
}

function statusView(s: DeliveryStatus): Pick<QueueEntry['recipients'][number], 'status' | 'held' | 'corrupt'> {
  const o = s as OperatorStatus;
  const at = Number.isFinite(s.at) ? new Date(s.at).toISOString() : String(s.at);
  return {
    status: { status: s.status, text: s.text, at, ...(s.remoteReply !== undefined ? { remoteReply: s.remoteReply } : {}), ...(s.remoteMta !== undefined ? { remoteMta: s.remoteMta } : {}) },
    ...(o.hold ? { held: { by: o.hold.by, reason: o.hold.reason } } : {}),
    ...(o.quarantine ? { corrupt: { error: o.quarantine.error } } : {}),
  };
}

function deadlineView(d: Deadline | undefined, now: number): DeadlineView | null {
  if (!d) return null;
  return { deadline: new Date(d.at).toISOString(), mode: d.mode, trace: d.trace, requestedSeconds: d.requestedSeconds, remainingSeconds: remainingSeconds(d, now) };
}

function notifyText(n: Notify): string | null {
  return n === null ? null : n === 'NEVER' ? 'NEVER' : n.join(',');
}

function typed(t: TypedAddress): string {
  return `${t.type};${t.address}`;
}

/** The delivery model of each link that is up, from the running gateway's status file (none when it is not running). */
function runningLinkModels(dataDir: string, now: number): Map<string, DeliveryModel> {
  const models = new Map<string, DeliveryModel>();
  const { status, running } = readGatewayStatus(dataDir, now);
  if (!status || !running) return models;
  for (const l of status.links as { peer?: string; model?: DeliveryModel | null }[]) if (l.peer && l.model) models.set(l.peer, l.model);
  return models;
}
