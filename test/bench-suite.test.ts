// The benchmark suite's measuring parts on a few messages: the on-air comparison gives every figure the
// acceptance check reads, in sane relation to each other; the baselines deliver everything on a clean channel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateMail } from '../sim/mail-generator.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { b2fMessage } from '../bench/b2f.ts';
import { runStopAndWait, runWholeMessage } from '../bench/baselines.ts';
import { splitMbox, toCrlf } from '../bench/corpus.ts';
import { measureOnAir } from '../bench/on-air.ts';

const rnd = new SeededRandom(42);
const next = () => rnd.next();
const corpus = [600, 3000, 12000].map((n, i) => ({ name: `m${i}.eml`, bytes: generateMail(n, next, i) }));

test('on-air: every figure of the summary, session cheaper than alone, the per-message rows add up', async () => {
  const r = await measureOnAir(corpus);
  for (const k of ['messages', 'meanOnAirBytes', 'meanLzhufBytes', 'meanB2fBytes', 'meanRatioToLzhuf', 'loneRatioToLzhuf', 'medianRatioToLzhuf', 'meanRatioToGzip']) assert.equal(typeof (r as unknown as Record<string, unknown>)[k], 'number', k);
  assert.equal(r.messages, 3);
  assert.deepEqual(Object.keys(r.classes), ['small', 'medium', 'large']);
  assert.deepEqual(Object.values(r.classes).map((c) => c.messages), [1, 1, 1]);
  assert.ok(r.meanOnAirBytes < r.meanLoneOnAirBytes, 'a shared session costs less than sessions of their own');
  // Session figures share out every byte both stations sent.
  assert.ok(Math.abs(r.perMessage.reduce((a, m) => a + m.onAir, 0) - r.session.onAir) <= r.messages);
  for (const m of r.perMessage) assert.ok(m.onAir > m.bundle && m.lone > m.onAir && m.lzhuf > 6 && m.b2f > 0, JSON.stringify(m));
  // The breakdown accounts for every byte on the air, and the segments carried every bundle byte once.
  const b = r.session.breakdown;
  assert.equal(b.segments + b.recordHeaders + b.macs + b.kissFraming + b.kissEscapes + b.ctrl + b.custody + b.hello, r.session.onAir);
  assert.equal(b.segments, r.perMessage.reduce((a, m) => a + m.bundle, 0));
});

test('B2F conversion: header lines, body, attachments decoded', async () => {
  const eml = toCrlf(Buffer.from('From: A <a@example.org>\nTo: b@example.net\nSubject: hi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/plain\n\nhello\n--X\nContent-Type: application/octet-stream; name=f.bin\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=f.bin\n\nAAECAw==\n--X--\n'));
  const m = await b2fMessage(eml);
  const text = Buffer.from(m.converted).toString('latin1');
  assert.match(text, /^Mid: \w{12}\r\nDate: \d{4}\/\d\d\/\d\d \d\d:\d\d\r\nType: Private\r\nFrom: SMTP:a@example\.org\r\nTo: SMTP:b@example\.net\r\nSubject: hi\r\nMbo: SMTP\r\nBody: \d+\r\nFile: 4 f\.bin\r\n\r\nhello/);
  assert.ok(text.endsWith('\r\n\x00\x01\x02\x03'));
});

test('mbox: split on From lines, >From unquoted, CRLF', () => {
  const ms = splitMbox(Buffer.from('From a@b Mon Jan  1 00:00:00 2024\nSubject: 1\n\n>From here\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: 2\n\nx\n'));
  assert.equal(ms.length, 2);
  assert.equal(ms[0]!.toString(), 'Subject: 1\r\n\r\nFrom here\r\n');
});

test('baselines deliver everything on a clean channel, and stop-and-wait pays a turnaround per frame', async () => {
  const spec = { bitRate: 2400, turnaroundMs: 1500, frameSize: 256, ber: 0 };
  const bundles = [new Uint8Array(1000).fill(1), new Uint8Array(3000).fill(2)];
  const w = await runWholeMessage(spec, bundles, 1, 600);
  const s = await runStopAndWait(spec, bundles, 1, 600);
  assert.equal(w.delivered, 2);
  assert.equal(s.delivered, 2);
  assert.ok(s.seconds > w.seconds + 16 * 1.5, `${s.seconds} against ${w.seconds}`);
});
