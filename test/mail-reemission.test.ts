// Re-emission to the next hop (digest section 8) and DSN building (RFC 3464), parsed back with mailparser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildDsn, planReemission, tunnelPriorityHeader, type HopCapabilities, type ReemitInput } from '../src/mail/index.ts';

const now = 1_800_000_000_000;
const all: HopCapabilities = { dsn: true, deliverBy: 30, mtPriority: true, altRecip: true, size: 0, eightBitMime: true, smtpUtf8: true };
const bare: HopCapabilities = { dsn: false, deliverBy: null, mtPriority: false, altRecip: false, size: null, eightBitMime: true, smtpUtf8: false };
const postfix: HopCapabilities = { ...bare, dsn: true, size: 52428800, smtpUtf8: true };

const msg = (over: Partial<ReemitInput> = {}): ReemitInput => ({
  sender: 'eljefe@example.com',
  params: { smtputf8: false, envid: 'QQ+1', ret: 'HDRS', by: { at: now + 600_000, mode: 'R', trace: false, requestedSeconds: 620 } },
  priority: { value: 4, source: 'mt-priority', requested: 4 },
  recipients: [
    { address: 'a@x.example', notify: ['SUCCESS', 'FAILURE'], orcpt: { type: 'rfc822', address: 'a+b@x.example' } },
    { address: 'b@x.example', notify: null, arcpt: { type: 'rfc822', address: 'alt@y.example' } },
  ],
  contentSize: 1234,
  eightBit: false,
  now,
  ...over,
});

test('a hop with every extension: BY as seconds remaining, MT-PRIORITY, DSN copied exactly, ARCPT and ABY passed on', () => {
  const p = planReemission(msg({ params: { ...msg().params, aby: { at: now + 60_000, mode: 'R', trace: false, requestedSeconds: 60 } } }), all);
  assert.equal(p.refuse, false);
  if (p.refuse) return;
  assert.deepEqual(p.mailParams, ['SIZE=1234', 'BY=600;R', 'MT-PRIORITY=4', 'RET=HDRS', 'ENVID=QQ+2B1', 'ABY=60;R']);
  assert.deepEqual(p.rcptParams, [['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;a+2Bb@x.example'], ['ARCPT=rfc822;alt@y.example']]);
  assert.equal(p.tunnelPriority, undefined);
  assert.deepEqual(p.relayedDsn, []);
  assert.equal(p.keepAltRecip, false);
});

test('R mode: no DELIVERBY -> 5.3.3; a larger minimum or no time left -> 5.4.7 (RFC 2852 4.1.4.1)', () => {
  assert.deepEqual(pick(planReemission(msg(), bare)), ['5.3.3']);
  assert.deepEqual(pick(planReemission(msg(), { ...all, deliverBy: 900 })), ['5.4.7']);
  assert.deepEqual(pick(planReemission(msg({ now: now + 601_000 }), all)), ['5.4.7']);
  // the seed's next hop: BY=120;R received, 60 s later it goes out as BY=60;R
  const seed = planReemission(msg({ params: { smtputf8: false, by: { at: now + 60_000, mode: 'R', trace: false, requestedSeconds: 120 } } }), all);
  assert.ok(!seed.refuse && seed.mailParams.includes('BY=60;R'));
});

test('N mode to a hop without DELIVERBY: relayed without BY, "relayed" DSN owed, NOTIFY gains DELAY (RFC 2852 4.1.4.2)', () => {
  const p = planReemission(msg({ params: { smtputf8: false, by: { at: now - 40_000, mode: 'N', trace: false, requestedSeconds: 60 } } }), postfix);
  assert.ok(!p.refuse);
  if (p.refuse) return;
  assert.ok(!p.mailParams.some((x) => x.startsWith('BY=')));
  assert.deepEqual(p.rcptParams, [['NOTIFY=SUCCESS,FAILURE,DELAY', 'ORCPT=rfc822;a+2Bb@x.example'], ['NOTIFY=FAILURE,DELAY']]);
  assert.deepEqual(p.relayedDsn, [0, 1]);
  assert.equal(p.tunnelPriority, 4);
  assert.equal(p.keepAltRecip, true, 'no ARCPT to a hop without ALTRECIP');
  // and N mode to a hop with DELIVERBY goes out late but as it is (negative is legal for N)
  const late = planReemission(msg({ params: { smtputf8: false, by: { at: now - 40_000, mode: 'N', trace: true, requestedSeconds: 60 } } }), all);
  assert.ok(!late.refuse && late.mailParams.includes('BY=-40;NT') && late.relayedDsn.length === 2);
});

test('a hop without DSN: no DSN parameters; SUCCESS requests answered here with "relayed" (RFC 3461 5.2.2)', () => {
  const p = planReemission(msg({ params: { smtputf8: false, envid: 'E' } }), bare);
  assert.ok(!p.refuse);
  if (p.refuse) return;
  assert.deepEqual(p.mailParams, []);
  assert.deepEqual(p.rcptParams, [[], []]);
  assert.deepEqual(p.relayedDsn, [0]);
});

test('SMTPUTF8, 8-bit data and SIZE are refused with their own codes where the hop cannot take them', () => {
  assert.deepEqual(pick(planReemission(msg({ params: { smtputf8: true } }), bare)), ['5.6.7']);
  assert.deepEqual(pick(planReemission(msg({ params: { smtputf8: false }, eightBit: true }), { ...bare, eightBitMime: false })), ['5.6.3']);
  assert.deepEqual(pick(planReemission(msg({ params: { smtputf8: false }, contentSize: 60_000_000 }), postfix)), ['5.3.4']);
});

test('tunnelling: old MT-Priority: fields go, one with the determined value comes below the trace fields (RFC 6758)', () => {
  const input = Buffer.from('Received: from a by b; Mon, 1 Jan 2026 00:00:00 +0000\r\nMT-Priority: 5\r\nSubject: x\r\nmt-priority: 2 (old)\r\n\r\nMT-Priority: body text stays\r\n');
  const out = tunnelPriorityHeader(input, 3).toString();
  assert.equal(out, 'Received: from a by b; Mon, 1 Jan 2026 00:00:00 +0000\r\nMT-Priority: 3\r\nSubject: x\r\n\r\nMT-Priority: body text stays\r\n');
});

test('a failed DSN parses back field by field, with the original returned as asked', async () => {
  const original = Buffer.from('Received: from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\nFrom: eljefe@example.com\r\nSubject: seed\r\n\r\nhello body\r\n');
  const raw = buildDsn({
    reportingMta: 'bravo.base.example',
    envid: 'QQ314159',
    arrival: new Date(now),
    deliverBy: new Date(now + 120_000),
    recipients: [
      { finalRecipient: 'Dana@Ivory.example.net', originalRecipient: { type: 'rfc822', address: 'Dana@Ivory.example.net' }, action: 'failed', status: '5.4.7', lastAttempt: new Date(now + 120_000) },
      { finalRecipient: 'topbanana@example.net', action: 'relayed', status: '5.1.1', remoteMta: 'mx.example.net', diagnostic: '550 5.1.1 no such user', extra: { 'X-Redirected-To': 'rfc822;bottom-apple@loc2.example.org' } },
    ],
    original,
    returnFull: true,
    to: 'eljefe@example.com',
    date: new Date(now + 121_000),
    messageId: 'dsn.1@bravo.base.example',
    boundary: 'dsn-boundary-1',
  });
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, 'Undelivered Mail Returned to Sender');
  assert.match(String(parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value: string }).value), /multipart\/report/);
  // mailparser hands message/delivery-status over as an attachment or folds it into the text, by version.
  const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status');
  const text = status ? status.content.toString() : (parsed.text ?? '');
  assert.match(raw.toString(), /\r\nContent-Type: message\/delivery-status\r\n/);
  for (const f of ['Reporting-MTA: dns; bravo.base.example', 'Original-Envelope-Id: QQ314159', 'Arrival-Date: ', 'Deliver-By-Date: ', 'Original-Recipient: rfc822;Dana@Ivory.example.net', 'Final-Recipient: rfc822;Dana@Ivory.example.net', 'Action: failed', 'Status: 5.4.7', 'Action: relayed', 'Diagnostic-Code: smtp; 550 5.1.1 no such user', 'X-Redirected-To: rfc822;bottom-apple@loc2.example.org'])
    assert.ok(text.includes(f), `delivery-status lacks "${f}":\n${text}`);
  const returned = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
  assert.ok(returned && returned.content.toString().includes('hello body'), 'RET=FULL: the whole original comes back');
});

function pick(p: ReturnType<typeof planReemission>): string[] {
  return p.refuse ? [p.status] : ['sent'];
}
