import { readFileSync, statfsSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import path from 'node:path';
import type { Route } from '../core/index.ts';
import { domainOf } from '../mail/index.ts';
import type { FrontEndPolicy } from '../smtp/index.ts';
import { ConfigError, type Config } from './config.ts';
import { verifyPassword } from './passwords.ts';
import { parseVia, routeResolver } from './routes.ts';
import { trustedNetworks } from './trust.ts';

/** The SMTP front end's view of the station's configuration. */
export function frontEndPolicy(config: Config, base: string, dataDir: string): FrontEndPolicy {
  const users = new Map(config.users.map((u) => [u.name, u]));
  const route = routeResolver(config.routes, base);
  const hostname = config.hostname ?? config.station;
  return {
    hostname,
    policy: config.priority.policy,
    draftKeyword: config.priority.draftKeyword,
    bands: config.priority.bands,
    minAccepted: config.priority.minAccepted,
    maxSizeByLevel: new Map(Object.entries(config.priority.maxSize).map(([level, size]) => [Number(level), size])),
    deliverByMin: config.deliverBy.min,
    maxMessageSize: config.limits.maxMessageSize,
    maxRecipients: config.limits.maxRecipients,
    maxReceived: config.limits.maxReceived,
    untrustedGreetingDelayMs: config.earlyTalkerPauseMs,
    trustedCeiling: config.trustedMaxPriority,
    isTrusted: trustedNetworks(config.trusted),
    authEnabled: users.size > 0,
    async authenticate(name, password) {
      const user = users.get(name);
      return (await verifyPassword(password, user?.hash ?? null)) && user ? user.maxPriority : null;
    },
    auth: {
      allowPlaintextOnLoopback: config.auth.allowPlaintextOnLoopback,
      maxFailures: config.auth.maxFailures,
      failureWindowMs: config.auth.failureWindowS * 1000,
      maxDelayMs: config.auth.maxDelayS * 1000,
    },
    connections: { total: config.limits.maxConnections, perClient: config.limits.maxConnectionsPerClient },
    maxDataBytesInMemory: config.limits.maxDataBytesInMemory,
    storage: {
      minFreeBytes: config.queue.minFreeBytes,
      freeBytes: () => {
        const s = statfsSync(dataDir);
        return s.bavail * s.bsize; // what an unprivileged process may still write
      },
    },
    ...tlsFiles(config, base),
    route,
    postmaster: postmasterResolver(config, base, dataDir, route),
  };
}

/**
 * RFC 5321 4.5.1: postmaster, bare or at a domain delivered here or at our host name, always has a destination:
 * `postmaster:` when configured (an alias), else the first maildir: or lmtp:// route, else a Maildir named
 * `postmaster` in the data folder, so even a station that relays everything can take it.
 */
function postmasterResolver(config: Config, base: string, dataDir: string, route: (address: string) => Route | null): (address: string) => { address: string; route: Route } | null {
  const hostname = (config.hostname ?? config.station).toLowerCase();
  const locals = config.routes.filter((r) => /^(?:maildir:|lmtp:)/.test(r.via)).flatMap((r) => r.domains.map((d) => d.toLowerCase()));
  const isLocal = (domain: string) => domain === hostname || locals.some((d) => d !== '*' && (d === domain || (d.startsWith('.') && domain.endsWith(d))));
  let target: { address?: string; route: Route };
  if (config.postmaster) {
    const r = route(config.postmaster);
    if (!r) throw new ConfigError(`postmaster: no route for ${config.postmaster}; add one to routes, or name an address that has one`);
    target = { address: config.postmaster, route: r };
  } else {
    const local = config.routes.find((r) => /^(?:maildir:|lmtp:)/.test(r.via));
    target = { route: local ? parseVia(local.via, base) : { kind: 'maildir', target: path.join(dataDir, 'postmaster') } };
  }
  return (address) => {
    const at = address.lastIndexOf('@');
    const local = at < 0 ? address : address.slice(0, at);
    if (local.toLowerCase() !== 'postmaster' || (at >= 0 && !isLocal(domainOf(address)))) return null;
    return { address: target.address ?? address, route: target.route };
  };
}

/**
 * The TLS key and certificate, read and tried together now, so that a wrong file is a configuration error naming
 * its key and path instead of a failure at the first STARTTLS.
 */
function tlsFiles(config: Config, base: string): { tls?: { key: Buffer; cert: Buffer } } {
  if (!config.tls) return {};
  const keyFile = path.resolve(base, config.tls.key);
  const certFile = path.resolve(base, config.tls.cert);
  const key = readTlsFile(keyFile, 'tls.key');
  const cert = readTlsFile(certFile, 'tls.cert');
  try {
    createSecureContext({ key });
  } catch (err) {
    throw new ConfigError(`tls.key: ${keyFile} is not a usable private key (PEM): ${(err as Error).message}`);
  }
  try {
    createSecureContext({ cert });
  } catch (err) {
    throw new ConfigError(`tls.cert: ${certFile} is not a usable certificate (PEM): ${(err as Error).message}`);
  }
  try {
    createSecureContext({ key, cert });
  } catch (err) {
    throw new ConfigError(`tls.key, tls.cert: the key ${keyFile} does not belong to the certificate ${certFile}: ${(err as Error).message}`);
  }
  return { tls: { key, cert } };
}

function readTlsFile(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
