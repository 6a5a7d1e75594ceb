import { CURRENT_DICTIONARY_VERSION, encodeBundle, type BundleContext } from '../src/codec/index.ts';
import type { ScenarioMessage } from './scenario.ts';

/**
 * A scenario message as the gateway would send it: a bundle with an envelope and the body compressed with
 * `dictionary` (a version both stations hold; 0 is none). Without one, the current dictionary.
 */
export function simBundle(m: ScenarioMessage, dictionary: number = CURRENT_DICTIONARY_VERSION, context?: BundleContext): Uint8Array {
  return encodeBundle(
    {
      id: m.id,
      priority: { value: m.priority, source: 'mt-priority', requested: m.priority },
      sender: 'team@field.example',
      params: { smtputf8: false, size: m.content.length },
      recipients: [{ address: 'ops@base.example', notify: ['SUCCESS', 'FAILURE'], orcpt: { type: 'rfc822', address: 'ops@base.example' } }],
      receivedAt: 1_800_000_000_000 + m.atMs,
      submitter: { clientAddress: '127.0.0.1', clientHostname: '', helo: 'laptop.field.example', trusted: true },
      content: m.content,
    },
    dictionary,
    context,
  );
}

/** The dictionary two stations use: the highest version both hold, 0 (none) if they share none. */
export function commonDictionary(mine: readonly number[], theirs: readonly number[]): number {
  return Math.max(0, ...mine.filter((d) => theirs.includes(d)));
}
