import type { Logger } from 'pino';
import { dictionaryName } from '../codec/index.ts';
import type { LinkEvent } from '../link/index.ts';

/**
 * One log line per link event, worded for an operator: what happened to which message, in words, with the
 * message id as msgId so it can be followed through the logs, and the event's type as `event` for tools. Frame-level events go to debug and trace.
 */
export function logLinkEvent(log: Logger, peer: string, e: LinkEvent): void {
  switch (e.type) {
    case 'segment':
      return log.trace(e, e.type);
    case 'over':
    case 'rejected-frame':
      return log.debug(e, e.type);
    case 'up':
      return log.info(
        { event: e.type, maxFrame: e.maxFrame, window: e.window, dictionary: dictionaryName(e.dictionary) },
        `link to ${peer} up: frames up to ${e.maxFrame} bytes, ${e.window} in flight, compression dictionary ${dictionaryName(e.dictionary)}`,
      );
    case 'auth-failed':
      return log.error(e, `link to ${peer}: ${e.detail}; links[].key must name a file with the same key on both stations`);
    case 'no-answer':
      return log.warn(e, `link to ${peer}: ${e.detail}`);
    case 'error':
      return log.error(e, `link to ${peer}: ${e.detail}`);
    case 'custody':
      return log.info({ event: e.type, msgId: e.id }, `sent over the radio: ${peer} holds it now`);
    case 'delivered':
      // The receiving side: stored here, custody confirmed to the peer; delivery onwards is the relay's (its own lines).
      return log.info({ event: e.type, msgId: e.id }, `received over the radio from ${peer} and stored; delivery follows`);
    case 'cancel-asked':
      return log.info({ event: e.type, msgId: e.id }, `deadline passed: asked ${peer} to cancel (its answer decides the outcome)`);
    case 'expired':
      return log.info({ event: e.type, msgId: e.id }, `deadline passed: withdrawn from the link to ${peer}`);
    case 'refused':
      return log.warn({ event: e.type, msgId: e.id, status: e.status }, `${peer} refused it for good: ${e.status} ${e.text}`);
    case 'deferred':
      return log.warn({ event: e.type, msgId: e.id, status: e.status, retryInMs: e.retryInMs }, `${peer} cannot take it now (${e.status} ${e.text}); offered again in ${Math.round(e.retryInMs / 1000)} s`);
    case 'refusing':
      return log.warn({ event: e.type, msgId: e.id, status: e.status }, `not taking it from ${peer}: ${e.status} ${e.text}`);
  }
}
