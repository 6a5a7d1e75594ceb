import path from 'node:path';
import type { Route, RouteKind } from '../core/index.ts';
import { domainOf } from '../mail/index.ts';
import type { Config } from './config-schema.ts';

/** Parses a configured `via` (already checked against the schema's pattern); Maildir paths become absolute. */
export function parseVia(via: string, baseDir: string): Route {
  if (via === 'mx') return { kind: 'mx', target: '' };
  const colon = via.indexOf(':');
  const kind = via.slice(0, colon) as RouteKind;
  const rest = via.slice(colon + 1);
  if (kind === 'maildir') return { kind, target: path.resolve(baseDir, rest) };
  return { kind, target: kind === 'lmtp' || kind === 'smtp' ? rest.replace(/^\/\//, '') : rest };
}

/**
 * First matching route wins. A domain entry matches itself and, written as ".example.net", its subdomains;
 * "*" matches everything.
 */
export function routeResolver(routes: Config['routes'], baseDir: string): (address: string) => Route | null {
  const table = routes.map((r) => ({ domains: r.domains.map((d) => d.toLowerCase()), route: parseVia(r.via, baseDir) }));
  return (address) => {
    if (address.toLowerCase() === 'postmaster') return table.find((t) => t.route.kind === 'maildir')?.route ?? null;
    const domain = domainOf(address);
    const hit = table.find((t) => t.domains.some((d) => d === '*' || d === domain || (d.startsWith('.') && domain.endsWith(d))));
    return hit?.route ?? null;
  };
}
