// The fuzz loops, short (scripts/fuzz.ts runs them long): each decoder target for a moment with fixed seeds, the
// SMTP front end for a few seconds; the cases that once failed, replayed; and the fixes they led to.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { decodeSession, encodeSession, FrameType, isFrameError, RecordKind } from '../src/codec/index.ts';
import { MemoryOutbound, MemoryProgressStore, LinkRefusal } from '../src/link/contracts.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { fitUtf8 } from '../src/link/receiver.ts';
import { buildDsn } from '../src/mail/index.ts';
import { DECODER_TARGETS, runDecoder } from '../scripts/fuzz/decoders.ts';
import { runSmtp } from '../scripts/fuzz/smtp-target.ts';
import { Rng } from '../scripts/fuzz/rng.ts';
import { fail, type DecoderTarget } from '../scripts/fuzz/target.ts';
import { startGateway } from './support/gateway.ts';
import { TestClock, testRandom, wire } from './support/mini-sim.ts';
import { RawSmtp } from './support/smtp-client.ts';

for (const [name, seed] of [['kiss', 11], ['frame', 12], ['bundle', 13], ['dsn', 14]] as const) {
  test(`fuzz ${name}: 1.5 s with seed ${seed}, no failure`, () => {
    const r = runDecoder(DECODER_TARGETS[name]!, seed, 1500);
    assert.equal(r.failure, undefined, r.failure && `case ${r.failure.caseNo}: ${r.failure.error}\n${r.failure.input}`);
    assert.ok(r.inputs > 1000, `${r.inputs} inputs`);
  });
}

test('fuzz smtp: 4 s of sessions against a real front end, every reply well formed, every 250 stored once and intact', async () => {
  const r = await runSmtp(21, 4000);
  assert.equal(r.failure, undefined, r.failure && `session ${r.failure.session}: ${r.failure.error}\n${r.failure.transcript}`);
  assert.ok(r.sessions > 50 && r.accepted > 10, JSON.stringify(r));
});

test('the harness: a failing case is reported with its number, and the same seed and number replay it alone', () => {
  const flaky: DecoderTarget<number> = {
    name: 'flaky',
    description: 'fails on inputs divisible by 97',
    generate: (rng: Rng) => rng.int(1000),
    check: (v) => (v % 97 === 0 ? fail(`${v}`) : undefined),
    show: (v) => String(v),
  };
  const r = runDecoder(flaky as DecoderTarget<unknown>, 5, 10_000);
  assert.ok(r.failure, 'found');
  const again = runDecoder(flaky as DecoderTarget<unknown>, 5, 0, r.failure.caseNo);
  assert.equal(again.failure?.input, r.failure.input);
  assert.equal(again.inputs, 1);
});

// Found by the dsn target (seed 1, case 278): a remote reply with a bare CR went into the DSN's status part as
// it was, a bare CR in a message (RFC 5322 2.3), and a way for a hostile next hop to start a line of its own.
test('regression (fuzz dsn seed 1 case 278): a bare CR or LF in a remote reply is folded in the DSN, never a new line', () => {
  assert.equal(runDecoder(DECODER_TARGETS.dsn!, 1, 0, 278).failure, undefined);
  const dsn = buildDsn({
    reportingMta: 'bravo.example',
    arrival: new Date(0),
    recipients: [{ finalRecipient: 'ops@base.example', action: 'failed', status: '5.1.1', diagnostic: '550 no\rX-Evil: 1\nX-Worse: 2' }],
    original: Buffer.from('Subject: x\r\n\r\n'),
    returnFull: false,
    to: 'a@field.example',
    date: new Date(0),
    messageId: 'm@bravo.example',
    boundary: 'B',
  }).toString('latin1');
  assert.match(dsn, /Diagnostic-Code: smtp; 550 no\r\n X-Evil: 1\r\n X-Worse: 2\r\n/);
  assert.doesNotMatch(dsn, /[^\r]\n|\r[^\n]/);
});

// Found while writing the frame target: a REFUSE record's text is at most 255 bytes on the wire, but a store's
// error or a decoder's detail can be longer; the record was then one the peer could not decode, so the refusal
// never arrived and the sender offered the message for ever.
test('regression: a refusal with a reason over 255 bytes reaches the sender (cut to fit), which records it once', async () => {
  const clock = new TestClock();
  const w = wire(clock, 9600, 200);
  const key = new TextEncoder().encode('a shared key for alpha and bravo');
  const base = { key, duplex: 'half', bitRate: 9600, turnaroundMs: 200, maxFrame: 256, window: 32, maxOverMs: 5000 } as const;
  const out = new MemoryOutbound();
  const events: LinkEvent[] = [];
  const reason = `the bundle cannot be decoded: ${'détail '.repeat(80)}`;
  const alpha = new LinkStation({ ...base, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: testRandom(1), port: w.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore(), onEvent: (e) => events.push(e) });
  const bravo = new LinkStation({ ...base, station: 'bravo', peer: 'alpha', role: 'answerer' }, { clock, random: testRandom(2), port: w.b, source: new MemoryOutbound(), sink: { accept: async () => Promise.reject(new LinkRefusal('5.6.0', reason)) }, progress: new MemoryProgressStore() });
  out.onAdd(() => alpha.notify());
  out.add({ id: 'm1', priority: 0, queuedAt: clock.now(), bundle: new Uint8Array(500).fill(1) });
  alpha.start();
  bravo.start();
  await clock.run(clock.now() + 120_000);
  alpha.stop();
  bravo.stop();
  assert.equal(out.refusals.length, 1, JSON.stringify(events.map((e) => e.type)));
  assert.equal(out.refusals[0]!.status, '5.6.0');
  assert.ok(Buffer.byteLength(out.refusals[0]!.text) <= 255 && out.refusals[0]!.text.startsWith('the bundle cannot be decoded: détail'));
  // The cut never splits a character, and the record it makes decodes.
  const cut = fitUtf8('é'.repeat(200), 255);
  assert.ok(Buffer.byteLength(cut) <= 255 && !cut.includes('\ufffd'));
  const f = decodeSession(encodeSession({ type: FrameType.RECORD, seq: 1, record: { kind: RecordKind.REFUSE, id: 'm1', status: '5.6.0', text: cut } }, key), key, 1024);
  assert.ok(!isFrameError(f));
});

// Found by the smtp target (seed 1810795598, session 2244): an unknown MAIL parameter was echoed whole, a reply
// line of 6,700 bytes where RFC 5321 4.5.3.1.5 allows 512.
test('regression (fuzz smtp seed 1810795598 session 2244): an unknown parameter is echoed short, every reply line within 512 bytes', async (t) => {
  const gw = await startGateway({ routes: [{ domains: ['*'], via: 'link:bravo' }] });
  t.after(() => gw.stop());
  const c = await RawSmtp.connect(gw.port);
  await c.cmd('EHLO x.example');
  for (const line of [`MAIL FROM:<a@field.example> SMTPUTF8${'A'.repeat(6600)}`, `MAIL FROM:<a@field.example> X${'\u00e9'.repeat(300)}=1`]) {
    const reply = await c.cmd(line);
    assert.match(reply, /^5\d\d 5\.5\.\d /);
    for (const l of reply.split('\r\n').filter(Boolean)) assert.ok(l.length <= 510, `a reply line of ${l.length} bytes`);
  }
  assert.match(await c.cmd('MAIL FROM:<a@field.example>'), /^250/);
  const rcpt = await c.cmd(`RCPT TO:<b@base.example> Z${'B'.repeat(3000)}=1`);
  assert.match(rcpt, /^555 5\.5\.4 Unsupported RCPT parameter /);
  assert.ok(rcpt.trimEnd().length <= 510);
  await c.quit();
});

// Found by the frame target (seed 5, case 196373): a message id that is not valid UTF-8 was decoded with
// replacement characters, so the id we would confirm (CUSTODY, REFUSE) was not the sender's, and could even be
// too long to encode. Text fields must be valid UTF-8, or the frame is malformed.
test('regression (fuzz frame seed 5 case 196373): a text field that is not valid UTF-8 makes the frame malformed', () => {
  assert.equal(runDecoder(DECODER_TARGETS.frame!, 5, 0, 196373).failure, undefined);
  const key = new Uint8Array(32).fill(1);
  const ok = encodeSession({ type: FrameType.RECORD, seq: 1, record: { kind: RecordKind.CANCEL, id: 'AB' } }, key);
  // Put an invalid byte (0xff) in place of 'B' and seal the frame again with a valid MAC.
  const body = Buffer.from(ok.subarray(0, ok.length - 8));
  body[body.indexOf('AB') + 1] = 0xff;
  const frame = Buffer.concat([body, createHmac('sha256', key).update(body).digest().subarray(0, 8)]);
  const d = decodeSession(frame, key, 1024);
  assert.ok(isFrameError(d) && d.error === 'malformed', JSON.stringify(d));
});
