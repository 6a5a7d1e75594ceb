import { deflateBundle } from './deflate-bundle.ts';
import type { ScenarioMessage } from './scenario.ts';

/** How the simulator turns a scenario message into the bytes that cross the link. */
export function simBundle(m: ScenarioMessage): Uint8Array {
  return deflateBundle(m);
}
