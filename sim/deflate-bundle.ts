import { deflateRawSync } from 'node:zlib';
import type { ScenarioMessage } from './scenario.ts';

/** A stand-in bundle: the content deflated (level 9), for runs that do not exercise the bundle codec. */
export function deflateBundle(m: ScenarioMessage): Uint8Array {
  return deflateRawSync(m.content, { level: 9 });
}
