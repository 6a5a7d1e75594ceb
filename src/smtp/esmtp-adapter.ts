/**
 * The one place where hfmail extends smtp-server, whose EHLO keyword list and enhanced status codes are fixed
 * in code. Three small wraps of SMTPConnection methods, active only for servers registered here:
 *  - EHLO: append our keywords (DELIVERBY, MT-PRIORITY, PRIORITY, ALTRECIP) to the 250 reply, and list AUTH
 *    only where the hooks allow it (after STARTTLS); AUTH: the hooks may refuse it before smtp-server runs it;
 *  - MAIL/RCPT: run our own grammar on the raw line first (smtp-server decodes xtext leniently, does not know
 *    our parameters and checks addresses its own way), then hand smtp-server a stand-in line that only carries
 *    what it still needs for its state machine, or refuse with our reply;
 *  - send: a reply text that already starts with an enhanced code is sent as is, instead of getting a second,
 *    derived one; a successful MAIL gets the text the hooks chose (RFC 6710's 2.3.6 when priority changed);
 *  - init: smtp-server always waits 100 ms before its greeting (to catch clients that talk before it), which
 *    caps a client that opens a connection per message at ~10 messages/s; the hooks choose the pause per client.
 * Both smtp-server and its connection module are imported as ESM, so the class patched here is the one the
 * server instantiates.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import type { SmtpReply } from './replies.ts';

export interface EsmtpHooks {
  ehloKeywords(session: SMTPServerSession): string[];
  /**
   * Called with the raw command line (null when it is not valid UTF-8) before smtp-server sees it: either a
   * refusal, or the line smtp-server should process instead.
   */
  preflight(verb: 'MAIL' | 'RCPT', line: string | null, session: SMTPServerSession): { refuse: SmtpReply } | { line: string };
  /** Text (starting with an enhanced code) of the 250 that accepts MAIL FROM. */
  mailAccepted(session: SMTPServerSession): string;
  /**
   * Milliseconds to wait before greeting a client (a client that talks in that pause gets 421); 0 greets at once.
   * Without it, smtp-server's own 100 ms.
   */
  greetingDelayMs?(remoteAddress: string): number;
  /** Whether EHLO lists AUTH to this session (smtp-server would list it whenever AUTH is enabled). */
  offerAuth?(session: SMTPServerSession): boolean;
  /** A refusal of AUTH before smtp-server looks at it (no TLS yet, too many failures), or null to go on. */
  authRefusal?(session: SMTPServerSession): SmtpReply | null;
}

const registry = new WeakMap<object, EsmtpHooks>();
/** Reply watchers per server (metrics count replies by code); they see the code only, never the text. */
const replyWatchers = new WeakMap<object, ((code: number) => void)[]>();

/** Calls `watch` with the code of every reply `server` sends (the gateway's metrics hang here). */
export function watchReplies(server: SMTPServer, watch: (code: number) => void): void {
  const list = replyWatchers.get(server) ?? [];
  list.push(watch);
  replyWatchers.set(server, list);
}

type Conn = SMTPConnection & {
  _server: object & { options: { maxClients?: number }; connections: Set<unknown> };
  session: SMTPServerSession;
  remoteAddress: string;
  name: string;
  _setListeners(ready: () => void): void;
  connectionReady(next?: () => void): void;
  _socket: import('node:net').Socket;
};
type Handler = (this: Conn, command: Buffer, callback: () => void) => void;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

export function extendServer(server: SMTPServer, hooks: EsmtpHooks): void {
  install();
  registry.set(server, hooks);
}

function install(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;

  const ehlo = proto.handler_EHLO as Handler;
  proto.handler_EHLO = function (this: Conn, command: Buffer, callback: () => void) {
    const hooks = registry.get(this._server);
    if (!hooks) return ehlo.call(this, command, callback);
    const send = this.send;
    this.send = (code, data, context) => {
      this.send = send;
      const offered = code === 250 && Array.isArray(data) && hooks.offerAuth?.(this.session) === false ? data.filter((l) => !/^AUTH /.test(l)) : data;
      const lines = code === 250 && Array.isArray(offered) ? [...offered, ...hooks.ehloKeywords(this.session)] : offered;
      send.call(this, code, lines, context);
    };
    try {
      ehlo.call(this, command, callback);
    } finally {
      this.send = send;
    }
  };

  for (const verb of ['MAIL', 'RCPT'] as const) {
    const original = proto[`handler_${verb}`] as Handler;
    proto[`handler_${verb}`] = function (this: Conn, command: Buffer, callback: () => void) {
      const hooks = registry.get(this._server);
      if (!hooks) return original.call(this, command, callback);
      let text: string | null;
      try {
        text = utf8.decode(command);
      } catch {
        text = null;
      }
      const outcome = hooks.preflight(verb, text, this.session);
      if ('refuse' in outcome) {
        this.send(outcome.refuse.code, `${outcome.refuse.enhanced} ${outcome.refuse.text}`);
        return callback();
      }
      return original.call(this, Buffer.from(outcome.line, 'utf8'), callback);
    };
  }

  const auth = proto.handler_AUTH as Handler;
  proto.handler_AUTH = function (this: Conn, command: Buffer, callback: () => void) {
    const refuse = registry.get(this._server)?.authRefusal?.(this.session);
    if (!refuse) return auth.call(this, command, callback);
    this.send(refuse.code, `${refuse.enhanced} ${refuse.text}`);
    return callback();
  };

  // Same steps as smtp-server's own init (listeners, its maxClients check), with our pause instead of its fixed one.
  const init = proto.init as (this: Conn) => void;
  proto.init = function (this: Conn) {
    const hooks = registry.get(this._server);
    if (!hooks?.greetingDelayMs) return init.call(this);
    const delayFor = hooks.greetingDelayMs.bind(hooks);
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) return this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      const delay = delayFor(this.remoteAddress);
      if (delay > 0) return void setTimeout(() => this.connectionReady(), delay).unref();
      // Greeted at once, a client's first command may still beat the (asynchronous) connect hook: hold its
      // bytes until the greeting is out rather than answer "talk too soon" to a client we chose not to test.
      this._socket.pause();
      this.connectionReady(() => this._socket.resume());
    });
  };

  const send = proto.send as SMTPConnection['send'];
  proto.send = function (this: Conn, code: number, data?: string | string[] | null, context?: string | false) {
    const hooks = registry.get(this._server);
    for (const watch of replyWatchers.get(this._server) ?? []) watch(code);
    if (hooks && context === 'MAIL_FROM_OK') return send.call(this, code, hooks.mailAccepted(this.session), false);
    if (hooks && typeof data === 'string' && ENHANCED_PREFIX.test(data)) return send.call(this, code, data, false);
    return send.call(this, code, data, context);
  };
}
