import type { HopCapabilities } from '../mail/index.ts';
import type { Capabilities } from './smtp-client.ts';

/** Reads what the re-emission rules need from an EHLO reply. */
export function hopCapabilities(caps: Capabilities): HopCapabilities {
  const by = caps.get('DELIVERBY');
  const size = caps.get('SIZE');
  return {
    dsn: caps.has('DSN'),
    deliverBy: by === undefined ? null : /^\d+/.test(by) ? Number(/^\d+/.exec(by)![0]) : 0,
    mtPriority: caps.has('MT-PRIORITY'),
    altRecip: caps.has('ALTRECIP'),
    size: size === undefined ? null : Number(/^\d+/.exec(size)?.[0] ?? 0),
    eightBitMime: caps.has('8BITMIME'),
    smtpUtf8: caps.has('SMTPUTF8'),
  };
}
