import path from 'node:path';
import { frameSizesFor, openSerialLinkPort, openTcpLinkPort, type AirFraming, type LinkPort } from '../link/index.ts';
import { loadProfiles, type Profile } from '../profiles/index.ts';
import { ConfigError } from './config.ts';
import { parseTcpPort } from './config-schema.ts';
import { shippedProfiles } from './station-tools.ts';

/** The shipped profiles, with those of the station's own folder (`profiles:`) added or replacing them by name. */
export function stationProfiles(folder: string | undefined, base: string): Map<string, Profile> {
  const profiles = shippedProfiles();
  if (folder) for (const [name, p] of loadProfiles(path.resolve(base, folder))) profiles.set(name, p);
  return profiles;
}

/** A link's profile by name, or a configuration error listing the names there are. */
export function linkProfile(profiles: ReadonlyMap<string, Profile>, name: string): Profile {
  const p = profiles.get(name);
  if (!p) throw new ConfigError(`links: profile "${name}" is not one of: ${[...profiles.keys()].join(', ')}`);
  return p;
}

/**
 * Opens a link's endpoint: `tcp://HOST:PORT` (a KISS TNC such as Direwolf, or a modem's data port), or a serial
 * device with the profile's line settings. Errors name the endpoint.
 */
export async function openLinkPort(port: string, profile: Profile): Promise<LinkPort> {
  const tcp = parseTcpPort(port);
  if (tcp) return openTcpLinkPort(tcp.host, tcp.port);
  const s = profile.serial;
  if (!s) throw new ConfigError(`links: ${port} is a serial device, but profile ${profile.name} has no serial settings (a modem on TCP is tcp://HOST:PORT)`);
  return openSerialLinkPort({ path: port, baudRate: s.baudRate, dataBits: s.dataBits, stopBits: s.stopBits, parity: s.parity, rtscts: s.flowControl === 'rtscts' });
}

/**
 * What the link's airtime model takes from a profile: the modem's framing on the air, FX.25, TXTAIL, how far
 * ahead of the air it takes frames, and the largest frame, no larger than fits an FX.25 block when the modem
 * sends FX.25 (src/link/air-time.ts).
 */
export function linkAirOptions(profile: Profile): { air: AirFraming; maxFrame: number; txAheadMs?: number } {
  const air: AirFraming = {
    framing: profile.airFraming,
    ...(profile.fx25 !== undefined ? { fx25: profile.fx25 } : {}),
    ...(profile.kiss ? { tailMs: profile.kiss.txTailMs } : {}),
  };
  const sizes = frameSizesFor(air)(profile.maxFrameBytes);
  return { air, maxFrame: sizes[sizes.length - 1]!, ...(profile.txAheadS !== undefined ? { txAheadMs: profile.txAheadS * 1000 } : {}) };
}
