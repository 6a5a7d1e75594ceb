import type { QueuedMessage, Recipient } from '../../src/core/index.ts';

/** Test fixtures: valid domain values with sensible defaults, overridden field by field. */

let nextId = 0;

/** Unique per call within a test process, shaped like a queue id (20 characters). */
export function freshId(): string {
  return `01TEST${String(nextId++).padStart(14, '0')}`;
}

export function buildRecipient(overrides: Partial<Recipient> = {}): Recipient {
  return {
    address: 'alice@example.org',
    notify: null,
    route: { kind: 'smtp', target: 'relay.example.org:25' },
    state: 'queued',
    ...overrides,
  };
}

export function buildMessage(overrides: Partial<QueuedMessage> = {}): QueuedMessage {
  return {
    id: freshId(),
    receivedAt: Date.UTC(2025, 0, 15, 12, 0, 0),
    sender: 'bob@example.net',
    params: { smtputf8: false },
    priority: { value: 0, source: 'policy' },
    recipients: [buildRecipient()],
    submitter: { clientAddress: '192.0.2.10', clientHostname: 'client.example.net', helo: 'client', trusted: false },
    content: new TextEncoder().encode('Subject: test\r\n\r\nHello.\r\n'),
    ...overrides,
  };
}

/** Content derived from an index alone, so a process that did not write it can check every byte. */
export function deterministicContent(index: number): Uint8Array {
  const length = 1 + ((index * 7919) % 6000);
  const bytes = new Uint8Array(length);
  for (let j = 0; j < length; j++) bytes[j] = (index * 31 + j * 7 + (j >> 8)) & 0xff;
  return bytes;
}

/** A message fully determined by its index (id, recipients, content), for crash-safety checks. */
export function deterministicMessage(index: number): QueuedMessage {
  const recipientCount = 1 + (index % 8);
  return buildMessage({
    id: `crash-${String(index).padStart(6, '0')}`,
    receivedAt: 1_700_000_000_000 + index,
    priority: { value: (index % 19) - 9, source: 'mt-priority', requested: (index % 19) - 9 },
    recipients: Array.from({ length: recipientCount }, (_, r) =>
      buildRecipient({ address: `rcpt${r}-${index}@example.org`, notify: r % 2 === 0 ? null : 'NEVER' }),
    ),
    content: deterministicContent(index),
  });
}
