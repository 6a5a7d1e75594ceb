import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { packageRoot } from '../core/index.ts';
import type { QueueStats } from '../queue/index.ts';
import type { GatewayMetrics, LinkSnapshot } from './metrics.ts';
import { controlQueue, type QueueAction } from './queue-control.ts';
import { openQueueView, type QueueView } from './queue-view.ts';
import type { StationSettings } from './station.ts';
import { BasicAuth, isLoopbackHost } from './web-auth.ts';

/** Messages the console lists at most: a long queue is shown as its first page and its total. */
export const CONSOLE_QUEUE_LIMIT = 200;
const MAX_QUEUE_LIMIT = 1000;
const RECENT_LIMIT = 50;
const MAX_RECENT_LIMIT = 500;
const MAX_BODY_BYTES = 16 * 1024;
/** POSTs must carry this header: a form or an image on another site cannot send it, and no CORS preflight is answered. */
export const CSRF_HEADER = 'x-hfmail-console';

export interface WebConsoleDeps {
  readonly settings: StationSettings;
  readonly stats: QueueStats;
  readonly metrics: GatewayMetrics;
  /** The configured links, with the station of each that is open. */
  links(): readonly { peer: string; snapshot?: LinkSnapshot }[];
  /** The queue was changed here (hold, release, ...): the relay and the links look again. */
  onQueueChange(): void;
  readonly log: Logger;
  readonly now?: () => number;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The station's web console (`web: HOST:PORT`): the page, the JSON it polls, the operator's actions and
 * `/metrics`, on node:http. On loopback it is open to this machine only (and checks the Host header, so a web
 * page rebinding its name to 127.0.0.1 gets nothing); elsewhere every request needs an SMTP user's password.
 */
export class WebConsole {
  private readonly server: Server;
  private readonly auth?: BasicAuth;
  private readonly loopback: boolean;
  private view?: QueueView;
  private readonly assets = new Map<string, Buffer>();

  constructor(
    private readonly deps: WebConsoleDeps,
    private readonly host: string,
  ) {
    const { config } = deps.settings;
    this.loopback = isLoopbackHost(host);
    if (!this.loopback) this.auth = new BasicAuth(config.users);
    const dir = path.join(packageRoot(), 'src', 'gateway', 'web-static');
    for (const { file } of Object.values(STATIC)) this.assets.set(file, readFileSync(path.join(dir, file)));
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) deps.log.error({ err }, 'web console request failed');
        if (!res.headersSent) sendJson(res, status, { error: (err as Error).message ?? String(err) });
        else res.end();
      });
    });
  }

  listen(port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new Error(`cannot serve the web console on ${this.host}:${port}: the port is in use; choose another with web:`) : err);
      this.server.once('error', failed);
      this.server.listen(port, this.host.replace(/^\[|\]$/g, ''), () => {
        this.server.off('error', failed);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: this.host, port });
      });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.view?.close();
    this.view = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    if (this.loopback && !isLoopbackHost(hostOnly(req.headers.host ?? ''))) throw new HttpError(421, 'this console answers only to a loopback host name');
    if (this.auth && (await this.auth.check(req.headers.authorization)) === null) {
      res.setHeader('WWW-Authenticate', `Basic realm="hfmail ${this.deps.settings.config.station}", charset="UTF-8"`);
      throw new HttpError(401, 'the console needs the name and password of an SMTP user');
    }
    const url = new URL(req.url ?? '/', 'http://console');
    const asset = STATIC[url.pathname];
    if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
      res.setHeader('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'");
      res.writeHead(200, { 'Content-Type': asset.type });
      return void res.end(req.method === 'HEAD' ? undefined : this.assets.get(asset.file));
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      const { contentType, body } = await this.deps.metrics.scrape();
      res.writeHead(200, { 'Content-Type': contentType });
      return void res.end(body);
    }
    const action = /^\/api\/messages\/([^/]+)\/(hold|release|requeue|delete)$/.exec(url.pathname);
    if (action) {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      checkSameOrigin(req);
      const body = await readJson(req);
      return sendJson(res, 200, this.act(decodeURIComponent(action[1]!), action[2] as QueueAction, body));
    }
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    switch (url.pathname) {
      case '/api/state':
        return sendJson(res, 200, this.state(url));
      case '/api/queue':
        return sendJson(res, 200, this.queue(limitParam(url, CONSOLE_QUEUE_LIMIT, MAX_QUEUE_LIMIT)));
      case '/api/links':
        return sendJson(res, 200, this.links());
      case '/api/recent':
        return sendJson(res, 200, this.recent(limitParam(url, RECENT_LIMIT, MAX_RECENT_LIMIT)));
      default:
        throw new HttpError(404, `no ${url.pathname} here`);
    }
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Everything the page shows, in one answer. */
  private state(url: URL) {
    return {
      station: this.deps.settings.config.station,
      now: new Date(this.now()).toISOString(),
      queue: this.queue(limitParam(url, CONSOLE_QUEUE_LIMIT, MAX_QUEUE_LIMIT)),
      links: this.links(),
      recent: this.recent(RECENT_LIMIT),
    };
  }

  /** The first `limit` unfinished messages in sending order (QueueEntry of `hfmail queue --json`) and the total. */
  private queue(limit: number) {
    this.view ??= openQueueView(this.deps.settings);
    const now = this.now();
    const entries = [...this.view.entries(limit, now)];
    return { total: this.view.total(), limit, entries };
  }

  private links() {
    return this.deps.links().map(({ peer, snapshot }) =>
      snapshot ? { ...snapshot, lastHelloAt: snapshot.lastHelloAt === null ? null : new Date(snapshot.lastHelloAt).toISOString() } : { peer, up: false, phase: 'not open' },
    );
  }

  /** The newest final outcomes; a DSN is a message from the null sender. */
  private recent(limit: number) {
    return this.deps.stats.recentOutcomes(limit).map((o) => ({
      ...o,
      receivedAt: new Date(o.receivedAt).toISOString(),
      dsn: o.sender === '',
      status: o.status && { ...o.status, at: Number.isFinite(o.status.at) ? new Date(o.status.at).toISOString() : String(o.status.at) },
    }));
  }

  private act(id: string, action: QueueAction, body: Record<string, unknown>) {
    const reason = typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason.trim().slice(0, 200) : 'held from the web console';
    let report;
    try {
      report = controlQueue(this.deps.settings, { action, id, ...(action === 'hold' ? { reason } : {}) }, this.now());
    } catch (err) {
      throw new HttpError(/^no message /.test((err as Error).message) ? 404 : 400, (err as Error).message);
    }
    this.deps.log.info({ msgId: id, action, changed: report.changed.length, removed: report.removed.length, skipped: report.skipped }, `web console: ${action} ${id}`);
    this.deps.onQueueChange();
    const { dataDir: _dataDir, ...rest } = report;
    return rest;
  }
}

function hostOnly(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(hostHeader);
  return m ? m[1]! : '';
}

/**
 * A POST comes from the console's own page: it carries the console's header (which another site's form cannot
 * send, and which a cross-origin script may send only after a CORS preflight we never answer), and a browser's
 * Origin, when sent, names this host.
 */
function checkSameOrigin(req: IncomingMessage): void {
  if (req.headers[CSRF_HEADER] !== '1') throw new HttpError(403, `a POST needs the header ${CSRF_HEADER}: 1 (the console's page sends it)`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) throw new HttpError(403, `cross-origin POST from ${origin} refused`);
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, `cross-site POST (${site}) refused`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'the body must be a JSON object');
}

function limitParam(url: URL, fallback: number, max: number): number {
  const text = url.searchParams.get('limit');
  if (text === null) return fallback;
  if (!/^\d{1,7}$/.test(text)) throw new HttpError(400, `limit must be a whole number, not ${text}`);
  return Math.min(max, Number(text));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
