import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { SUPPORTED_DICTIONARY_VERSIONS } from '../codec/index.ts';
import { newMessageId, systemClock, wholeMilliseconds, type Clock, type Random, type Timer } from '../core/index.ts';
import { expectedBundleBytes, kissSetup, LinkStation, type LinkPort } from '../link/index.ts';
import { makeMaildir, RelayRunner } from '../relay/index.ts';
import { GroupCommit, MessageStore } from '../queue/index.ts';
import { SmtpFrontEnd, watchReplies } from '../smtp/index.ts';
import { ConfigError, type Config } from './config.ts';
import { faultTolerantProgress, LinkInbound, linkOutbound } from './link-endpoint.ts';
import { linkEncryption, readLinkKeys } from './link-keys.ts';
import { ensureDataDir } from './data-dir.ts';
import { frontEndPolicy } from './front-end-policy.ts';
import { startHousekeeping, type Housekeeping } from './housekeeping.ts';
import { parseVia, routeResolver } from './routes.ts';
import { linkAirOptions, linkProfile, openLinkPort, stationProfiles } from './link-profiles.ts';
import { GatewayMetrics, meteredDelivery } from './metrics.ts';
import { WebConsole } from './web-console.ts';
import { logLinkEvent } from './link-log.ts';
import { STATUS_FILE, type GatewayStatusFile } from './status-file.ts';

export interface GatewayOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Relative paths in the config are relative to this folder (the config file's). */
  readonly baseDir?: string;
  /** Byte streams for links, by peer, instead of opening their serial ports (the demo's simulated radio). */
  readonly linkPorts?: Readonly<Record<string, LinkPort>>;
}

export { STATUS_FILE };

export const systemRandom: Random = { bytes: (n) => randomBytes(n) };

/**
 * What to type first, true to this station's routes: mail to a local domain if it has one (it lands in that
 * Maildir), else mail that waits for its radio link; then where to look.
 */
function tryHint(config: Config, listen: string, dataDir: string): string {
  const local = config.routes.find((r) => /^(maildir|lmtp):/.test(r.via) && r.domains.some((d) => d !== '*'));
  const domain = local?.domains.find((d) => d !== '*')?.replace(/^\./, '');
  const send = `swaks --server ${listen} --from you@example.com --to someone@${domain ?? 'example.net'}`;
  const wild = config.routes.find((r) => r.domains.includes('*'));
  const fate = domain ? `it is delivered by ${local!.via}` : wild ? `it waits in the queue for ${wild.via}${wild.via.startsWith('link:') && !config.links.some((l) => `link:${l.peer}` === wild.via) ? ' (no such link is configured: add one under links:)' : ''}` : 'no route takes it';
  return `try: ${send} (${fate}); then: npx hfmail queue --data ${dataDir}`;
}

/** The composition root of one station: the queue on disk and the SMTP front end in front of it. */
export class Gateway {
  readonly store: MessageStore;
  readonly smtp: SmtpFrontEnd;
  readonly relay: RelayRunner;
  readonly dataDir: string;
  readonly links = new Map<string, LinkStation>();
  /** The station's Prometheus metrics (src/gateway/metrics.ts), served at /metrics by the web console. */
  readonly metrics: GatewayMetrics;
  /** The web console (`web:`), once started; webAddress is where it listens. */
  private web?: WebConsole;
  webAddress?: { host: string; port: number };
  /** Every link port in use, given or opened here: stop() closes them, so the devices are free again. */
  private readonly ports = new Map<string, LinkPort>();
  private linkRetry?: Timer;
  private statusTimer?: Timer;
  private housekeeping?: Housekeeping;
  private stopped = false;
  /** The queue's clock (whole ms); the link stations get the injected clock as it is. */
  private readonly clock: Clock;
  address?: { host: string; port: number };

  private readonly opts: GatewayOptions;

  constructor(options: GatewayOptions) {
    // Every line of this station's log names it once (a logger that already does, such as the demo's, is kept).
    const named = options.log.bindings().station !== undefined ? options.log : options.log.child({ station: options.config.station });
    this.opts = { ...options, log: named };
    const opts = this.opts;
    const { config, log } = opts;
    const base = opts.baseDir ?? process.cwd();
    this.dataDir = path.resolve(base, config.data);
    // Configuration mistakes (TLS files, postmaster) are found before anything is opened or created.
    const smtpPolicy = frontEndPolicy(config, base, this.dataDir);
    ensureDataDir(this.dataDir);
    // Local Maildirs exist from the start, so an operator can look into one before its first message. One that
    // cannot be made is not fatal: delivery into it fails and retries, and says why, like any delivery fault.
    for (const { kind, target } of config.routes.map((r) => parseVia(r.via, base))) {
      if (kind !== 'maildir') continue;
      try {
        makeMaildir(target);
      } catch (err) {
        log.warn({ dir: target, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }, 'cannot create a Maildir of the routes; delivery into it will fail and retry');
      }
    }
    this.store = MessageStore.open(this.dataDir);
    const clock = wholeMilliseconds(opts.clock ?? systemClock);
    this.clock = clock;
    const random = opts.random ?? systemRandom;
    this.checkLinks(base);
    const store = this.store;
    const r = config.relay;
    const metrics = new GatewayMetrics(
      {
        station: config.station,
        depth: () => store.stats.depthByPriority(),
        links: () => config.links.map((l) => ({ peer: l.peer, station: this.links.get(l.peer) })),
        now: () => clock.now(),
      },
      { processMetrics: config.web !== undefined }, // Node's own gauges only where /metrics serves them
    );
    this.metrics = metrics;
    this.relay = new RelayRunner(
      // A DSN or a redirected copy for the radio wakes its link through store.onLinkWork.
      meteredDelivery(store.deliveryView(), metrics, (id) => store.stats.priorityOf(id)),
      {
        hostname: config.hostname ?? config.station,
        retry: { baseMs: r.retryBaseS * 1000, maxMs: r.retryMaxS * 1000, giveUpMs: r.giveUpS * 1000, altRecipWindowMs: r.altRecipWindowS * 1000 },
        connectTimeoutMs: r.connectTimeoutS * 1000,
        commandTimeoutMs: r.commandTimeoutS * 1000,
        starttls: r.starttls,
        dns: { servers: r.dnsServers, timeoutMs: r.dnsTimeoutS * 1000 },
        sessions: { max: r.maxSessions, perDestination: r.maxSessionsPerDestination },
        route: routeResolver(config.routes, base),
        newId: () => newMessageId(clock, random),
      },
      clock,
      log.child({ component: 'relay' }),
    );
    this.smtp = new SmtpFrontEnd({
      policy: smtpPolicy,
      sink: new GroupCommit(this.store),
      clock,
      random,
      log: log.child({ component: 'smtp' }),
      onStored: (m) => {
        metrics.messageAccepted(m.priority.value);
        this.relay.kick();
      },
      // Deadline-aware admission (docs/decisions.md): only a radio link can tell what is ahead.
      estimateDelivery: (route, priority, size) => (route.kind === 'link' ? this.links.get(route.target)?.estimateMs(priority, expectedBundleBytes(size ?? 0)) : undefined),
    });
    watchReplies(this.smtp.server, (code) => metrics.smtpReply(code));
    // Any message stored for a radio link (from SMTP, from the other link, a DSN, a redirected copy) wakes it.
    this.store.onLinkWork((peer, ids) => this.links.get(peer)?.notify(ids));
  }

  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = splitHostPort(this.opts.config.listen);
    this.address = await this.smtp.listen(port, host);
    // Quarantine and retention (src/gateway/housekeeping.ts); the operator's commands from another process wake the relay and links.
    this.housekeeping = startHousekeeping({ store: this.store, clock: this.clock, log: this.opts.log.child({ component: 'queue' }), deliveredDays: this.opts.config.retention.deliveredDays, onExternalChange: () => { this.relay.kick(); for (const l of this.links.values()) l.notify(); } });
    this.relay.start();
    await this.openLinks();
    if (this.opts.config.web) {
      try {
        await this.startWeb(this.opts.config.web);
      } catch (err) {
        await this.stop(); // nothing half-started stays open (SMTP, links, timers)
        throw err;
      }
    }
    this.writeStatus();
    const listen = `${this.address.host}:${this.address.port}`;
    this.opts.log.info({ listen, data: this.dataDir }, 'hfmail gateway listening');
    this.opts.log.info(tryHint(this.opts.config, listen, this.dataDir));
    return this.address;
  }

  /** The web console and /metrics (src/gateway/web-console.ts) on `web: HOST:PORT`. */
  private async startWeb(listen: string): Promise<void> {
    const { config, log } = this.opts;
    const { host, port } = splitHostPort(listen);
    this.web = new WebConsole(
      {
        settings: { config, baseDir: this.opts.baseDir ?? process.cwd() },
        stats: this.store.stats,
        metrics: this.metrics,
        links: () => config.links.map((l) => ({ peer: l.peer, snapshot: this.links.get(l.peer)?.snapshot() })),
        onQueueChange: () => {
          this.relay.kick();
          for (const l of this.links.values()) l.notify();
        },
        log: log.child({ component: 'web' }),
      },
      host,
    );
    this.webAddress = await this.web.listen(port);
    log.info({ web: `http://${listen.replace(/:\d+$/, '')}:${this.webAddress.port}/` }, 'web console listening');
  }

  /** The running gateway's state for `hfmail status`, rewritten every 2 s into the data folder. */
  private writeStatus(): void {
    if (this.stopped) return;
    const status: GatewayStatusFile = {
      station: this.opts.config.station,
      pid: process.pid,
      updatedAt: new Date().toISOString(),
      listen: this.address ? `${this.address.host}:${this.address.port}` : null,
      links: [...this.opts.config.links].map((l) => this.links.get(l.peer)?.snapshot() ?? { peer: l.peer, up: false, phase: 'not open' }),
    };
    try {
      const tmp = path.join(this.dataDir, 'status.json.tmp');
      writeFileSync(tmp, JSON.stringify(status, null, 2));
      renameSync(tmp, path.join(this.dataDir, STATUS_FILE));
    } catch (err) {
      this.opts.log.debug({ err }, 'could not write status');
    }
    this.statusTimer = this.clock.setTimer(2000, () => this.writeStatus());
  }

  /** Configuration mistakes in links (unknown profile, unreadable key) stop the start; a missing device does not. */
  private checkLinks(base: string): void {
    const { config } = this.opts;
    if (!config.links.length) return;
    const profiles = stationProfiles(config.profiles, base);
    for (const l of config.links) {
      linkEncryption(l, linkProfile(profiles, l.profile));
      if (!l.key) throw new ConfigError(`links: the link to ${l.peer} needs a key file (links[].key)`);
      readLinkKeys(base, l.key, l.peer);
    }
  }


  /**
   * Opens every configured link. One that cannot open (no device, wrong profile) is reported and tried again
   * every 30 s; mail is accepted and queued meanwhile.
   */
  private async openLinks(): Promise<void> {
    const { config, log } = this.opts;
    const random = this.opts.random ?? systemRandom;
    const base = this.opts.baseDir ?? process.cwd();
    let failed = false;
    for (const l of config.links) {
      if (this.links.has(l.peer)) continue;
      const llog = log.child({ component: 'link', peer: l.peer });
      try {
        const profile = linkProfile(stationProfiles(config.profiles, base), l.profile);
        if (!l.key) throw new ConfigError(`links: the link to ${l.peer} needs a key file (links[].key)`);
        const key = readLinkKeys(base, l.key, l.peer); // two during a key change (docs/security.md)
        const port = this.opts.linkPorts?.[l.peer] ?? (await openLinkPort(l.port, profile));
        if (this.stopped) return void (await port.close()); // stopped while the port was opening
        this.ports.set(l.peer, port);
        // `tnc: keep`: the TNC's own settings stay (Direwolf's FULLDUP, a hardware TNC's TXDELAY).
        if (profile.kiss && l.tnc !== 'keep') for (const cmd of kissSetup(profile.kiss)) port.write(cmd);
        const endpointOptions = {
          station: config.station,
          hostname: config.hostname ?? config.station,
          peer: l.peer,
          route: routeResolver(config.routes, base),
          clock: this.clock,
          log: llog,
          maxMessageSize: config.limits.maxMessageSize,
          maxReceived: config.limits.maxReceived,
        };
        const outbound = linkOutbound(this.store, this.relay, endpointOptions);
        const inbound = new LinkInbound(this.store, this.relay, endpointOptions);
        const station = new LinkStation(
          {
            station: config.station,
            peer: l.peer,
            key,
            encrypt: linkEncryption(l, profile),
            // One side says hello at start so the two do not collide; either calls later when it has traffic.
            role: config.station < l.peer ? 'caller' : 'answerer',
            duplex: profile.duplex,
            bitRate: profile.onAirBitRate,
            bitsPerByte: profile.bitsPerByte,
            turnaroundMs: profile.turnaroundMs,
            ...(profile.latencyMs !== undefined ? { latencyMs: profile.latencyMs } : {}),
            ...linkAirOptions(profile), // maxFrame (fitted to an FX.25 block) and the modem's framing on the air
            // A bundle is its content compressed plus the envelope: never much above the content.
            maxBundle: config.limits.maxMessageSize + 256 * 1024,
            window: profile.window,
            maxOverMs: profile.maxOverS * 1000,
            dictionaries: SUPPORTED_DICTIONARY_VERSIONS,
            modemArq: profile.arq === 'modem',
            ...(profile.kiss ? { kissPort: profile.kiss.port } : {}),
          },
          {
            clock: this.opts.clock ?? systemClock,
            random,
            port,
            source: outbound,
            sink: inbound,
            // The queue's link table has exactly the ProgressStore methods; a full disk there never stops the link.
            progress: faultTolerantProgress(this.store.link, llog),
            onEvent: (e) => {
              this.metrics.linkEvent(l.peer, e);
              if (e.type === 'custody') this.metrics.recipientOutcome('delivered', this.store.stats.priorityOf(e.id), 'link');
              logLinkEvent(llog, l.peer, e);
            },
          },
        );
        port.onClose((err) => {
          if (this.stopped) return;
          llog.error({ err, port: l.port }, `link to ${l.peer}: ${l.port} closed; reopening in 30 s`);
          station.stop();
          this.links.delete(l.peer);
          this.retryLinks();
        });
        this.links.set(l.peer, station);
        station.start();
        llog.info({ port: this.opts.linkPorts?.[l.peer] ? 'given' : l.port, profile: profile.name, tnc: l.tnc }, `link to ${l.peer} open on ${this.opts.linkPorts?.[l.peer] ? 'the given port' : l.port}`);
      } catch (err) {
        failed = true;
        llog.error({ err: (err as Error).message, port: l.port }, `link to ${l.peer} could not open ${l.port}; mail for it stays queued`);
        if (err instanceof ConfigError) throw err;
      }
    }
    if (failed) this.retryLinks();
  }

  private retryLinks(): void {
    if (this.stopped || this.linkRetry) return;
    this.linkRetry = this.clock.setTimer(30_000, () => {
      this.linkRetry = undefined;
      void this.openLinks();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.web?.close();
    this.housekeeping?.stop();
    this.statusTimer?.cancel();
    this.linkRetry?.cancel();
    for (const l of this.links.values()) l.stop();
    await Promise.allSettled([...this.ports.values()].map((p) => p.close()));
    this.ports.clear();
    await this.smtp.close();
    await this.relay.stop();
    this.store.close();
  }
}

export function splitHostPort(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (!m) throw new Error(`expected HOST:PORT, got "${text}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

