import { existsSync } from 'node:fs';
import path from 'node:path';
import { MessageStore, OPERATOR_STATES, QUEUE_DB_FILE, type OperatorState, type Target } from '../queue/index.ts';
import type { StationSettings } from './station.ts';

export type QueueAction = 'hold' | 'release' | 'requeue' | 'delete';

/** One operator command: a message id, or `all` with optional filters. */
export interface QueueCommand {
  readonly action: QueueAction;
  readonly id?: string;
  readonly all?: boolean;
  readonly state?: string;
  readonly domain?: string;
  /** Why a message is held (hold only). */
  readonly reason?: string;
}

/** What a command did, per message. */
export interface QueueCommandReport {
  readonly action: QueueAction;
  readonly dataDir: string;
  /** Messages changed (hold, release, requeue) with the recipients whose state changed. */
  readonly changed: { id: string; recipients: string[] }[];
  /** Messages removed (delete), with what went with them. */
  readonly removed: { id: string; size: number; recipients: { address: string; state: string }[]; linkBundles: number; linkReceived: number }[];
  /** Messages of a selection left alone, and why. */
  readonly skipped: { id: string; why: string }[];
  /** Messages found undecodable and quarantined on the way (before the command ran). */
  readonly quarantined: { id: string; error: string }[];
}

/**
 * Runs an operator command on the queue of a station, directly on its database (WAL lets it while the gateway
 * runs; the gateway notices within seconds). Mistakes in the command are errors with a sentence for the operator.
 */
export function controlQueue(settings: StationSettings, cmd: QueueCommand, now = Date.now()): QueueCommandReport {
  const target = commandTarget(cmd);
  const dataDir = path.resolve(settings.baseDir, settings.config.data);
  // Like `hfmail queue`: a mistyped folder is an error, not a new empty queue.
  if (!existsSync(path.join(dataDir, QUEUE_DB_FILE))) throw new Error(`no queue in ${dataDir} (has a gateway run with this data folder?)`);
  const store = MessageStore.open(dataDir);
  try {
    const op = store.operator;
    // What cannot be decoded is quarantined first, so no command puts it back in the way of the relay.
    const quarantined = op.quarantine(now);
    if (typeof target === 'string' && !op.has(target)) throw new Error(`no message ${target} in the queue at ${dataDir}`);
    const base = { action: cmd.action, dataDir, quarantined, changed: [], removed: [], skipped: [] };
    switch (cmd.action) {
      case 'hold': {
        const r = op.hold(target, cmd.reason ?? '', now);
        return { ...base, changed: copy(r.changed), skipped: [...r.skipped] };
      }
      case 'release': {
        const r = op.release(target, now);
        return { ...base, changed: copy(r.changed), skipped: [...r.skipped] };
      }
      case 'requeue': {
        const r = op.requeue(target, now);
        return { ...base, changed: copy(r.changed), skipped: [...r.skipped] };
      }
      case 'delete': {
        const r = op.delete(target);
        return { ...base, removed: r.removed.map((m) => ({ ...m, recipients: [...m.recipients] })), skipped: [...r.skipped] };
      }
    }
  } finally {
    store.close();
  }
}

function copy(changed: readonly { id: string; recipients: readonly string[] }[]): { id: string; recipients: string[] }[] {
  return changed.map((c) => ({ id: c.id, recipients: [...c.recipients] }));
}

function commandTarget(cmd: QueueCommand): Target {
  if (cmd.id !== undefined && cmd.all) throw new Error(`give a message id or --all, not both`);
  if (cmd.id === undefined && !cmd.all) throw new Error(`give a message id, or --all (with --state and/or --domain to narrow it)`);
  if (cmd.id !== undefined) {
    if (cmd.state !== undefined || cmd.domain !== undefined) throw new Error('--state and --domain go with --all');
    if (cmd.id.trim() === '') throw new Error('the message id is empty');
    return cmd.id;
  }
  if (cmd.state !== undefined && !OPERATOR_STATES.includes(cmd.state as OperatorState)) {
    throw new Error(`--state must be one of ${OPERATOR_STATES.join(', ')}, not ${cmd.state}`);
  }
  if (cmd.domain !== undefined && cmd.domain.replace(/^\./, '').trim() === '') throw new Error('--domain is empty');
  const applies: Record<QueueAction, readonly OperatorState[]> = {
    hold: ['queued'],
    release: ['held', 'corrupt'],
    requeue: ['queued', 'held'],
    delete: OPERATOR_STATES,
  };
  const state = cmd.state as OperatorState | undefined;
  if (state !== undefined && !applies[cmd.action].includes(state)) {
    throw new Error(`${cmd.action} applies to ${applies[cmd.action].join(' or ')} recipients, not ${state} ones`);
  }
  // Without --state, release takes held recipients only: a corrupt one is released by naming it (after a repair).
  const defaultState = cmd.action === 'release' ? 'held' : undefined;
  return { ...(state ?? defaultState ? { state: state ?? defaultState } : {}), ...(cmd.domain !== undefined ? { domain: cmd.domain.trim() } : {}) };
}
