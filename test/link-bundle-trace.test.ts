// The gateway's own Received line is not sent over the radio to a peer that reads format 4: the peer writes it
// again from a few fields, byte for byte. Anything else on top of the message travels as it is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeBundle, isCodecError } from '../src/codec/index.ts';
import type { QueuedMessage } from '../src/core/index.ts';
import { contentOf, linkBundle } from '../src/gateway/link-bundle.ts';
import { ownReceivedInfo, receivedField, withProtocol, type ReceivedInfo } from '../src/mail/index.ts';
import { fieldReport } from './support/mail-samples.ts';
import { buildMessage } from './support/messages.ts';

const NOW = Date.UTC(2026, 11, 1, 9, 30, 0);

/** A message as the front end stores it: its Received line for the transaction on top of what the client sent. */
function accepted(info: Partial<ReceivedInfo>, body: Uint8Array = fieldReport): QueuedMessage {
  const base = buildMessage({ receivedAt: NOW - 1500 });
  const trace = receivedField({
    helo: 'laptop.field.example',
    clientAddress: '10.1.0.7',
    by: 'alpha.field.example',
    protocol: withProtocol({ esmtp: true, tls: true, auth: true, utf8: false }),
    id: base.id,
    recipients: [base.recipients[0]!.address],
    priority: 3,
    date: new Date(NOW),
    ...info,
  });
  return { ...base, content: Buffer.concat([Buffer.from(trace, 'utf8'), body]) };
}

function crossed(m: QueuedMessage, dictionary: number): { bytes: Uint8Array; content: Uint8Array } {
  const bytes = linkBundle(m, NOW, dictionary);
  const b = decodeBundle(bytes, undefined, undefined, m.id);
  assert.ok(!isCodecError(b), JSON.stringify(b));
  return { bytes, content: contentOf(b) };
}

test('our Received line is made again at the peer byte for byte, and not sent', () => {
  for (const info of [{}, { recipients: [] }, { clientHostname: 'laptop.lan', clientAddress: '2001:db8::7' }, { helo: 'café.example', protocol: 'UTF8SMTPSA', priority: -9 }, { date: new Date(NOW + 59_000) }]) {
    const m = accepted(info);
    const { bytes, content } = crossed(m, 2);
    assert.ok(Buffer.from(content).equals(Buffer.from(m.content)), JSON.stringify(info));
    const withLine = linkBundle({ ...m, content: Buffer.concat([Buffer.from('X-Other: 1\r\n'), m.content]) }, NOW, 2);
    assert.ok(bytes.length + 20 < withLine.length, `${bytes.length} B without the line, ${withLine.length} B when it has to travel`);
  }
});

test('a first field that is not exactly our line travels as it is; a deflate peer (format 3) gets the line in the content', () => {
  const m = accepted({});
  const text = Buffer.from(m.content).toString('utf8');
  const variants = [
    text.replace('Received: from', 'Received:  from'), // another spacing
    text.replace(`id ${m.id}`, 'id 01OTHERMESSAGE000000000000'), // another message's line
    text.replace('PRIORITY 3;', 'PRIORITY 3; (a comment)'),
    `X-First: yes\r\n${text}`,
    '',
  ];
  for (const v of variants) {
    const other = { ...m, content: Buffer.from(v, 'utf8') };
    assert.ok(Buffer.from(crossed(other, 2).content).equals(other.content), JSON.stringify(v.slice(0, 60)));
  }
  assert.ok(Buffer.from(crossed(m, 1).content).equals(Buffer.from(m.content)));
});

test('ownReceivedInfo reads back every line receivedField writes, and nothing else', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9.-]{1,40}$/);
  fc.assert(
    fc.property(
      token,
      fc.option(token, { nil: undefined }),
      fc.oneof(fc.ipV4(), fc.ipV6()),
      token,
      fc.constantFrom('SMTP', 'ESMTP', 'ESMTPS', 'ESMTPA', 'ESMTPSA', 'UTF8SMTP', 'UTF8SMTPSA'),
      fc.stringMatching(/^[0-9A-Z]{26}$/),
      fc.option(fc.emailAddress(), { nil: undefined }),
      fc.integer({ min: -9, max: 9 }),
      fc.integer({ min: 0, max: 4_000_000_000 }),
      (helo, clientHostname, clientAddress, by, protocol, id, rcpt, priority, seconds) => {
        const info: ReceivedInfo = { helo, ...(clientHostname ? { clientHostname } : {}), clientAddress, by, protocol, id, recipients: rcpt ? [rcpt] : [], priority, date: new Date(seconds * 1000) };
        const line = receivedField(info);
        const back = ownReceivedInfo(line);
        assert.ok(back, line);
        assert.equal(receivedField(back), line);
        assert.equal(ownReceivedInfo(line.replace('\r\n', '\n')), undefined);
      },
    ),
    { seed: 7, numRuns: 300 },
  );
});
