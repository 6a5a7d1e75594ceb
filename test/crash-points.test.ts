// Crash safety at exact moments (src/core/failpoint.ts): each case starts a station that SIGKILLs itself at one
// point of the hand-over across the radio, restarts it, and checks that every message arrives exactly once,
// byte for byte. The random crash loop (crash-loop.test.ts) covers the moments in between.
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { MessageStore } from '../src/queue/index.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { SHORT_OVERS_PROFILE, stationPair } from './support/station-pair.ts';

let pair: Awaited<ReturnType<typeof stationPair>> | undefined;
afterEach(() => {
  pair?.close();
  pair = undefined;
});

const cases: { who: 'alpha' | 'bravo'; point: string; what: string }[] = [
  { who: 'bravo', point: 'inbound-stored', what: 'bravo dies with the message stored, before custody is confirmed and before delivery' },
  { who: 'alpha', point: 'custody-confirmed', what: 'alpha dies on hearing custody, before recording it' },
  { who: 'bravo', point: 'before-delivery', what: 'bravo dies as it is about to write the Maildir' },
  { who: 'bravo', point: 'maildir-written', what: 'bravo dies with the file in the Maildir, before recording the delivery' },
];

for (const c of cases)
  test(`failpoint ${c.point}: ${c.what}; after the restart each message is delivered once`, async () => {
    pair = await stationPair(['--bit-rate', '19200', '--turnaround', '100', '--seed', '5'], { profile: SHORT_OVERS_PROFILE, failpoints: { [c.who]: c.point } });
    pair.radio();
    const bodies = new Map<string, string>();
    const s = await RawSmtp.connect(pair.ports.alpha);
    await s.ehlo('laptop.field.example');
    for (let i = 0; i < 3; i++) {
      const tag = `${c.point.replace(/-/g, '')}${i}`;
      const body = `Subject: ${tag}\r\nMessage-ID: <${tag}@laptop>\r\n\r\n${Array.from({ length: 40 + 30 * i }, (_, j) => `${tag} line ${j}`).join('\r\n')}\r\n`;
      bodies.set(tag, body);
      assert.match(await s.cmd(`MAIL FROM:<team@field.example> MT-PRIORITY=${i}`), /^250 /);
      assert.match(await s.cmd('RCPT TO:<ops@base.example>'), /^250 /);
      assert.match(await s.data(body), /^250 2\.6\.0 /);
    }
    await s.quit();
    await pair.exited(c.who, 30_000); // it reached the point and killed itself
    await pair.start(c.who);
    for (let i = 0; i < 300 && pair.delivered('bravo').length < bodies.size; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up, if there were one
    const files = pair.delivered('bravo');
    const tags = files.map((f) => /Subject: (\w+)/.exec(f.text)![1]!);
    assert.deepEqual([...tags].sort(), [...bodies.keys()].sort(), `delivered: ${tags.join(', ')}; logs:\n${pair.log.join('').slice(-2000)}`);
    for (const f of files) assert.ok(f.text.endsWith(bodies.get(/Subject: (\w+)/.exec(f.text)![1]!)!), 'not byte-identical');
  });

test('failpoint outcomes-recorded: bravo dies with a delivery recorded but its DSN not yet queued; the transaction rolls back both, and after the restart there is one delivery and one DSN', async () => {
  pair = await stationPair(['--bit-rate', '19200', '--turnaround', '100', '--seed', '6'], { profile: SHORT_OVERS_PROFILE, failpoints: { bravo: 'outcomes-recorded' } });
  pair.radio();
  const s = await RawSmtp.connect(pair.ports.alpha);
  await s.ehlo('laptop.field.example');
  const body = 'Subject: dsnonce\r\nMessage-ID: <dsnonce@laptop>\r\n\r\nplease confirm\r\n';
  assert.match(await s.cmd('MAIL FROM:<team@field.example> ENVID=dsnonce'), /^250 /);
  assert.match(await s.cmd('RCPT TO:<ops@base.example> NOTIFY=SUCCESS'), /^250 /);
  assert.match(await s.data(body), /^250 2\.6\.0 /);
  await s.quit();
  await pair.exited('bravo', 30_000); // the Maildir file is written, the outcome recorded, the DSN not yet: killed
  await pair.start('bravo');
  const dsns = () => pair!.delivered('alpha').filter((f) => /multipart\/report/i.test(f.text) && f.text.includes('dsnonce'));
  // Until both queues hold nothing queued any more: then nothing can deliver or report again, and the counts are final.
  const settled = () => (['alpha', 'bravo'] as const).every((n) => {
    const store = MessageStore.open(path.join(pair!.dir, n));
    try {
      return store.list().length === 0;
    } finally {
      store.close();
    }
  });
  for (let i = 0; i < 300 && !(dsns().length >= 1 && settled()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(settled(), 'both queues settled');
  assert.equal(pair.delivered('bravo').filter((f) => f.text.includes('dsnonce')).length, 1, 'one delivery');
  assert.equal(dsns().length, 1, `one DSN; logs:\n${pair.log.join('').slice(-2000)}`);
  assert.match(dsns()[0]!.text, /Action: delivered/);
});
