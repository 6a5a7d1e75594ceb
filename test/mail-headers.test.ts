import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  countReceived,
  headerEnd,
  headerFields,
  mtPriorityHeaderValues,
  receivedField,
  rfc5322Date,
  withProtocol,
  type ReceivedInfo,
} from '../src/mail/index.ts';

const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const fieldsOf = (text: string) => headerFields(bytes(text));
const priorities = (...lines: string[]) => mtPriorityHeaderValues(fieldsOf(lines.join('\r\n') + '\r\n\r\nbody\r\n'));

describe('headerFields / headerEnd', () => {
  it('unfolds folded fields (space and tab) and stops at the empty line', () => {
    const msg = 'Subject: hello\r\n world\r\nTo: a@b.example,\r\n\tc@d.example\r\nMT-Priority: 4 (ultra)\r\n\r\nX-Body: not a header\r\n';
    assert.deepEqual(fieldsOf(msg), [
      ['Subject', 'hello world'],
      ['To', 'a@b.example, c@d.example'],
      ['MT-Priority', '4 (ultra)'],
    ]);
  });
  it('headerEnd is just after the empty line, 2 for an empty header, the length when there is no body', () => {
    assert.equal(headerEnd(bytes('A: 1\r\n\r\nbody')), 'A: 1\r\n\r\n'.length);
    assert.equal(headerEnd(bytes('\r\nbody')), 2);
    assert.equal(headerEnd(bytes('A: 1\r\nB: 2\r\n')), 'A: 1\r\nB: 2\r\n'.length);
  });
  it('works on a subarray with an offset', () => {
    const buf = Buffer.from('XXXXSubject: s\r\n\r\nB: body\r\n', 'latin1');
    assert.deepEqual(headerFields(buf.subarray(4)), [['Subject', 's']]);
  });
  it('a message with no header yields no fields', () => assert.deepEqual(fieldsOf('\r\nSubject: body\r\n'), []));
});

describe('mtPriorityHeaderValues (RFC 6758 §4: "MT-Priority:" [CFWS] priority-value [CFWS])', () => {
  it('MT-Priority: 4 (ultra) → 4', () => assert.deepEqual(priorities('MT-Priority: 4 (ultra)'), [4]));
  it('MT-Priority: -3 → -3', () => assert.deepEqual(priorities('MT-Priority: -3'), [-3]));
  it('MT-Priority: +3 → null (no "+" in priority-value)', () => assert.deepEqual(priorities('MT-Priority: +3'), [null]));
  for (const bad of ['03', '10', '-0', '', '3 4', 'high', '3.0']) {
    it(`MT-Priority: ${bad} → null`, () => assert.deepEqual(priorities(`MT-Priority: ${bad}`), [null]));
  }
  it('comment before the value, folded value, lower-case name', () => {
    assert.deepEqual(priorities('MT-Priority: (set by MUA) 2'), [2]);
    assert.deepEqual(priorities('MT-Priority:\r\n 5'), [5]);
    assert.deepEqual(priorities('mt-priority: 6'), [6]);
  });
  it('nested comment (RFC 5322 §3.2.2 comments nest): MT-Priority: 4 (a (nested) comment) → 4', () => {
    assert.deepEqual(priorities('MT-Priority: 4 (a (nested) comment)'), [4]);
  });
  it('one entry per field, in order, other fields ignored', () => {
    assert.deepEqual(priorities('Priority: urgent', 'MT-Priority: 1', 'X-MT-Priority: 9', 'MT-Priority: +2'), [1, null]);
  });
  it('no field → empty list', () => assert.deepEqual(priorities('Subject: x'), []));
});

describe('countReceived (RFC 5321 §6.3)', () => {
  it('counts 101 Received fields, folded ones once', () => {
    const lines: string[] = [];
    for (let i = 0; i < 101; i++) lines.push(`Received: from h${i}.example by gw.example;\r\n Tue, 04 Mar 2025 10:00:00 +0000`);
    const fields = fieldsOf(lines.join('\r\n') + '\r\nSubject: loop\r\n\r\nReceived: in the body\r\n');
    assert.equal(countReceived(fields), 101);
  });
  it('is case-insensitive and ignores X-Received', () => {
    assert.equal(countReceived(fieldsOf('received: a\r\nRECEIVED: b\r\nX-Received: c\r\n\r\n')), 2);
  });
});

const DATE = new Date(Date.UTC(2025, 2, 4, 10, 0, 0));
const INFO: ReceivedInfo = {
  helo: 'mua.example.com',
  clientHostname: 'mua.example.com',
  clientAddress: '192.0.2.10',
  by: 'gw1.example.org',
  protocol: 'ESMTPSA',
  id: '4F2A9',
  recipients: ['topbanana@example.net'],
  priority: 3,
  date: DATE,
};
const unfold = (field: string) => field.replace(/\r\n(?=[ \t])/g, '').replace(/[ \t]+/g, ' ');
const lines = (field: string) => field.slice(0, -2).split('\r\n');

function assertWellFormed(field: string): void {
  assert.ok(field.startsWith('Received: from '), field);
  assert.ok(field.endsWith('\r\n'), 'ends with CRLF');
  assert.ok(!/\r\n\r\n/.test(field), 'no empty line');
  assert.ok(!/[\r\n]/.test(field.replace(/\r\n/g, '')), 'no bare CR or LF');
  for (const [i, line] of lines(field).entries()) {
    assert.ok(line.length <= 78, `line ${i} is ${line.length} characters: ${JSON.stringify(line)}`);
    if (i > 0) assert.match(line, /^[ \t]+\S/, 'continuation lines start with white space');
  }
}

describe('receivedField (RFC 5321 §4.4, RFC 6710 §7, digest §2.4, §6.5)', () => {
  it('the digest §2.4 example, clause by clause', () => {
    const field = receivedField(INFO);
    assertWellFormed(field);
    assert.equal(
      unfold(field),
      'Received: from mua.example.com (mua.example.com [192.0.2.10]) by gw1.example.org with ESMTPSA id 4F2A9 for <topbanana@example.net> PRIORITY 3; Tue, 04 Mar 2025 10:00:00 +0000\r\n',
    );
  });
  it('contains PRIORITY n; for negative and zero priorities', () => {
    assert.match(unfold(receivedField({ ...INFO, priority: -4 })), / PRIORITY -4; /);
    assert.match(unfold(receivedField({ ...INFO, priority: 0 })), / PRIORITY 0; /);
  });
  it('names the recipient with "for" only when there is exactly one', () => {
    assert.doesNotMatch(receivedField({ ...INFO, recipients: ['a@b.example', 'c@d.example'] }), /\bfor\b/);
    assert.doesNotMatch(receivedField({ ...INFO, recipients: [] }), /\bfor\b/);
    assert.match(unfold(receivedField({ ...INFO, recipients: ['only@one.example'] })), / for <only@one\.example> PRIORITY 3;/);
  });
  it('uses an IPv6 address literal and works without a reverse name', () => {
    const field = receivedField({ ...INFO, clientHostname: undefined, clientAddress: '2001:db8::1' });
    assertWellFormed(field);
    assert.match(unfold(field), /^Received: from mua\.example\.com \(\[IPv6:2001:db8::1\]\) by /);
  });
  it('ends with a numeric-zone date', () => assert.match(unfold(receivedField(INFO)), /; Tue, 04 Mar 2025 10:00:00 \+0000\r\n$/));
  it('keeps lines within 78 characters for realistic long names', () => {
    const field = receivedField({
      ...INFO,
      helo: 'mail-relay-01.northern-district.example.org',
      clientHostname: 'mail-relay-01.northern-district.example.org',
      clientAddress: '2001:db8:85a3::8a2e:370:7334',
      by: 'hf-gateway-station-alpha.example.org',
      recipients: ['emergency-operations-centre@regional-command.example.net'],
    });
    assertWellFormed(field);
  });
  it('property: well formed and ≤ 78 characters per line for names up to 20 characters', () => {
    const name = fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,5}){0,2}$/);
    fc.assert(
      fc.property(name, name, name, fc.array(fc.stringMatching(/^[a-z]{1,10}@[a-z]{1,8}\.example$/), { maxLength: 3 }), fc.integer({ min: -9, max: 9 }), (helo, host, by, recipients, priority) => {
        const field = receivedField({ ...INFO, helo, clientHostname: host, by, recipients, priority });
        assertWellFormed(field);
        assert.ok(unfold(field).includes(` PRIORITY ${priority}; `));
        assert.equal(/ for </.test(unfold(field)), recipients.length === 1);
      }),
    );
  });
});

describe('withProtocol (RFC 3848, RFC 6531 §4.3)', () => {
  it('names the protocol', () => {
    assert.equal(withProtocol({ esmtp: false, tls: true, auth: true, utf8: true }), 'SMTP');
    assert.equal(withProtocol({ esmtp: true, tls: false, auth: false, utf8: false }), 'ESMTP');
    assert.equal(withProtocol({ esmtp: true, tls: true, auth: true, utf8: false }), 'ESMTPSA');
    assert.equal(withProtocol({ esmtp: true, tls: false, auth: true, utf8: false }), 'ESMTPA');
    assert.equal(withProtocol({ esmtp: true, tls: true, auth: false, utf8: true }), 'UTF8SMTPS');
    assert.equal(withProtocol({ esmtp: true, tls: true, auth: true, utf8: true }), 'UTF8SMTPSA');
  });
});

describe('rfc5322Date (RFC 5322 §3.3)', () => {
  it('formats known dates in UTC with +0000', () => {
    assert.equal(rfc5322Date(DATE), 'Tue, 04 Mar 2025 10:00:00 +0000');
    assert.equal(rfc5322Date(new Date(Date.UTC(2000, 0, 1, 0, 0, 0))), 'Sat, 01 Jan 2000 00:00:00 +0000');
    assert.equal(rfc5322Date(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999))), 'Fri, 31 Dec 1999 23:59:59 +0000');
  });
  it('property: matches the date-time grammar and parses back to the same second', () => {
    const RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const text = rfc5322Date(new Date(ms));
        assert.match(text, RE);
        assert.equal(Date.parse(text), Math.floor(ms / 1000) * 1000);
      }),
    );
  });
});
