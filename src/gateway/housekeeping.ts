import type { Logger } from 'pino';
import type { Clock, Timer } from '../core/index.ts';
import type { MessageStore } from '../queue/index.ts';

export interface HousekeepingOptions {
  readonly store: MessageStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** retention.deliveredDays: finished messages are purged this long after their last outcome. */
  readonly deliveredDays: number;
  /**
   * Another process (the operator's `hfmail hold|release|requeue|delete`) changed the queue: the gateway looks
   * again (kicks the relay, wakes the links).
   */
  readonly onExternalChange: () => void;
  /** How often to look for another process's changes; 2 s. */
  readonly pollMs?: number;
  /** How often to purge and look for undecodable messages; hourly. */
  readonly everyMs?: number;
  /** Messages purged per transaction; between batches the event loop runs. */
  readonly batchSize?: number;
}

export interface Housekeeping {
  stop(): void;
}

const DAY_MS = 86_400_000;
const SCAN_PAUSE_MS = 5;
/** Messages checked per page: small, so that a page's objects die young instead of filling the old generation. */
const SCAN_PAGE = 50;

/**
 * The queue's upkeep in a running gateway: at start and then hourly, stored messages that cannot be decoded are
 * quarantined (corrupt) and finished ones past retention are purged, a batch at a time; every 2 s a cheap look
 * (PRAGMA data_version) tells whether another process committed to the queue, and if so the gateway is told.
 */
export function startHousekeeping(o: HousekeepingOptions): Housekeeping {
  const { store, clock, log } = o;
  const pollMs = o.pollMs ?? 2000;
  const everyMs = o.everyMs ?? 3_600_000;
  const batchSize = o.batchSize ?? 500;
  let stopped = false;
  let pollTimer: Timer | undefined;
  let roundTimer: Timer | undefined;
  let version = safely('read the data version', () => store.operator.dataVersion());
  let purged = 0;

  function safely<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      log.error({ err }, `housekeeping: could not ${what}`);
      return undefined;
    }
  }

  /**
   * Looks for undecodable messages a page at a time, a short pause between pages, so that a long queue holds
   * neither the loop nor memory. `then` runs once a whole pass has ended; asked for during a pass, another
   * pass follows (what changed meanwhile may be behind the page the pass has reached).
   */
  let scanAfter: string | undefined;
  let thisPass: (() => void)[] = [];
  let nextPass: (() => void)[] | undefined;
  let scanTimer: Timer | undefined;
  function quarantine(then?: () => void): void {
    if (scanAfter !== undefined) {
      nextPass ??= [];
      if (then) nextPass.push(then);
      return;
    }
    if (then) thisPass.push(then);
    scanAfter = '';
    scanTimer = clock.setTimer(0, quarantineStep);
  }

  function quarantineStep(): void {
    scanTimer = undefined;
    if (stopped || scanAfter === undefined) return;
    const page = safely('look for undecodable messages', () => store.operator.quarantinePage(clock.now(), scanAfter!, SCAN_PAGE));
    for (const { id, error } of page?.found ?? []) {
      log.error({ msgId: id, error }, 'stored message cannot be decoded: quarantined as corrupt (hfmail queue shows it; repair and release it, or delete it)');
    }
    if (page?.next !== undefined) scanAfter = page.next;
    else {
      for (const f of thisPass.splice(0)) f();
      if (nextPass === undefined) return void (scanAfter = undefined);
      thisPass = nextPass;
      nextPass = undefined;
      scanAfter = '';
    }
    // A pause between pages: SMTP and the links come first, and the garbage of a page is collected young.
    scanTimer = clock.setTimer(SCAN_PAUSE_MS, quarantineStep);
  }

  /** One purge batch; the next one after the event loop has run, until none is left; then the next round in an hour. */
  function purge(): void {
    roundTimer = undefined;
    if (stopped) return;
    const r = safely('purge finished messages', () => store.operator.purgeFinished(o.deliveredDays * DAY_MS, clock.now(), { batchSize, maxBatches: 1 }));
    purged += r?.purged ?? 0;
    if (r?.more) {
      roundTimer = clock.setTimer(0, purge);
      return;
    }
    if (purged > 0) log.info({ purged, deliveredDays: o.deliveredDays }, 'purged finished messages past retention');
    purged = 0;
    roundTimer = clock.setTimer(everyMs, round);
  }

  function round(): void {
    roundTimer = undefined;
    if (stopped) return;
    quarantine();
    purge();
  }

  function poll(): void {
    pollTimer = undefined;
    if (stopped) return;
    const now = safely('read the data version', () => store.operator.dataVersion());
    if (now !== undefined && now !== version) {
      version = now;
      // What another process wrote may not decode: better found before the relay and the links look again.
      quarantine(() => {
        try {
          o.onExternalChange();
        } catch (err) {
          log.error({ err }, 'housekeeping: reacting to a change by another process failed');
        }
      });
    }
    pollTimer = clock.setTimer(pollMs, poll);
  }

  round();
  pollTimer = clock.setTimer(pollMs, poll);
  return {
    stop() {
      stopped = true;
      pollTimer?.cancel();
      roundTimer?.cancel();
      scanTimer?.cancel();
    },
  };
}
