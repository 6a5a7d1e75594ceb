import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { newMessageId, systemClock, type Clock, type Random } from '../core/index.ts';
import { RelayRunner } from '../relay/index.ts';
import { MessageStore } from '../queue/index.ts';
import { SmtpFrontEnd, type FrontEndPolicy } from '../smtp/index.ts';
import { ConfigError, type Config } from './config.ts';
import { routeResolver } from './routes.ts';
import { trustedNetworks } from './trust.ts';

export interface GatewayOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Relative paths in the config are relative to this folder (the config file's). */
  readonly baseDir?: string;
}

export const systemRandom: Random = { bytes: (n) => randomBytes(n) };

/** The composition root of one station: the queue on disk and the SMTP front end in front of it. */
export class Gateway {
  readonly store: MessageStore;
  readonly smtp: SmtpFrontEnd;
  readonly relay: RelayRunner;
  readonly dataDir: string;
  address?: { host: string; port: number };

  constructor(private readonly opts: GatewayOptions) {
    const { config, log } = opts;
    const base = opts.baseDir ?? process.cwd();
    this.dataDir = path.resolve(base, config.data);
    this.store = MessageStore.open(this.dataDir);
    const clock = opts.clock ?? systemClock;
    const random = opts.random ?? systemRandom;
    const store = this.store;
    const r = config.relay;
    this.relay = new RelayRunner(
      {
        due: (now) => store.delivery.due(now),
        nextDueAt: () => store.delivery.nextDueAt(),
        record: (id, idx, outcome, attempted) => store.delivery.record(id, idx, outcome, attempted),
        get: (id) => store.get(id),
        insert: (m) => store.insert(m),
      },
      {
        hostname: config.hostname ?? config.station,
        retry: { baseMs: r.retryBaseS * 1000, maxMs: r.retryMaxS * 1000, giveUpMs: r.giveUpS * 1000, altRecipWindowMs: r.altRecipWindowS * 1000 },
        connectTimeoutMs: r.connectTimeoutS * 1000,
        commandTimeoutMs: r.commandTimeoutS * 1000,
        starttls: r.starttls,
        dns: { servers: r.dnsServers, timeoutMs: r.dnsTimeoutS * 1000 },
        route: routeResolver(config.routes, base),
        newId: () => newMessageId(clock, random),
      },
      clock,
      log.child({ component: 'relay' }),
    );
    this.smtp = new SmtpFrontEnd({
      policy: frontEndPolicy(config, base),
      sink: this.store,
      clock,
      random,
      log: log.child({ component: 'smtp' }),
      onStored: () => this.relay.kick(),
    });
  }

  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = splitHostPort(this.opts.config.listen);
    this.address = await this.smtp.listen(port, host);
    this.relay.start();
    const listen = `${this.address.host}:${this.address.port}`;
    this.opts.log.info({ station: this.opts.config.station, listen, data: this.dataDir }, 'hfmail gateway listening');
    this.opts.log.info(`try: swaks --server ${listen} --from you@example.com --to someone@example.net; then: hfmail queue --data ${this.dataDir}`);
    return this.address;
  }

  async stop(): Promise<void> {
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

function readTlsFile(base: string, file: string, key: string): Buffer {
  try {
    return readFileSync(path.resolve(base, file));
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path.resolve(base, file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function frontEndPolicy(config: Config, base: string): FrontEndPolicy {
  const users = new Map(config.users.map((u) => [u.name, u]));
  const trusted = trustedNetworks(config.trusted);
  const tls = config.tls ? { key: readTlsFile(base, config.tls.key, 'tls.key'), cert: readTlsFile(base, config.tls.cert, 'tls.cert') } : undefined;
  return {
    hostname: config.hostname ?? config.station,
    policy: config.priority.policy,
    draftKeyword: config.priority.draftKeyword,
    bands: config.priority.bands,
    minAccepted: config.priority.minAccepted,
    maxSizeByLevel: new Map(Object.entries(config.priority.maxSize).map(([level, size]) => [Number(level), size])),
    deliverByMin: config.deliverBy.min,
    maxMessageSize: config.limits.maxMessageSize,
    maxRecipients: config.limits.maxRecipients,
    maxReceived: config.limits.maxReceived,
    trustedCeiling: config.trustedMaxPriority,
    isTrusted: trusted,
    authEnabled: users.size > 0,
    authenticate(name, password) {
      const user = users.get(name);
      if (!user) return null;
      const a = Buffer.from(password);
      const b = Buffer.from(user.password);
      return a.length === b.length && timingSafeEqual(a, b) ? user.maxPriority : null;
    },
    ...(tls ? { tls } : {}),
    route: routeResolver(config.routes, base),
  };
}
