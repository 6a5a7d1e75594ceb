import path from 'node:path';
import { packageRoot } from '../core/index.ts';
import { loadProfiles, type Profile } from '../profiles/index.ts';

/** The profiles shipped with hfmail, or those of another folder. */
export function shippedProfiles(dir?: string): Map<string, Profile> {
  return loadProfiles(dir ?? path.join(packageRoot(), 'firmware-profiles'));
}

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

/**
 * Serial ports the system knows. On Linux serialport asks udev; where there is none (containers, minimal
 * systems) the ports under /dev are listed by name instead of failing.
 */
export async function serialPorts(): Promise<{ ports: PortInfo[]; note?: string }> {
  try {
    const { SerialPort } = await import('serialport'); // on first use, as in the link's serial port
    const list = await SerialPort.list();
    return { ports: list.map((p) => ({ path: p.path, ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}), ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}), ...(p.vendorId ? { vendorId: p.vendorId } : {}), ...(p.productId ? { productId: p.productId } : {}) })) };
  } catch (err) {
    const { readdirSync } = await import('node:fs');
    const names = readdirSync('/dev').filter((n) => /^tty(USB|ACM|S\d|AMA|XRUSB)/.test(n)).sort();
    return { ports: names.map((n) => ({ path: `/dev/${n}` })), note: `device details unavailable (${(err as Error).message}); listed by name` };
  }
}
