// Crash safety across the radio: a seeded loop SIGKILLs alpha or bravo at random moments of a multi-message
// transfer (mid-frame, between custody and delivery, ...), restarts it, and every message still arrives
// exactly once, byte for byte.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SeededRandom } from '../sim/seeded-random.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { stationPair } from './support/station-pair.ts';

let pair: Awaited<ReturnType<typeof stationPair>> | undefined;
after(() => pair?.close());

test('SIGKILL either station at random points: exactly-once, byte-identical delivery (seed printed)', async () => {
  const seed = Number(process.env.HFMAIL_CRASH_SEED ?? 20261128);
  const rnd = new SeededRandom(seed);
  pair = await stationPair(['--bit-rate', '9600', '--turnaround', '150', '--seed', String(seed)]);
  pair.radio();
  const bodies = new Map<string, string>();
  const c = await RawSmtp.connect(pair.ports.alpha);
  await c.ehlo('laptop.field.example');
  for (let i = 0; i < 6; i++) {
    const tag = `crash${i}`;
    const lines = Array.from({ length: 60 + rnd.int(120) }, (_, j) => `${tag} line ${j} ${'abcdefghij'.repeat(1 + rnd.int(6))}`);
    const body = `Subject: ${tag}\r\nMessage-ID: <${tag}@laptop>\r\n\r\n${lines.join('\r\n')}\r\n`;
    bodies.set(tag, body);
    assert.match(await c.cmd(`MAIL FROM:<team@field.example> MT-PRIORITY=${rnd.int(5) - 2}`), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
    assert.match(await c.data(body), /^250 2\.6\.0 /);
  }
  await c.quit();
  const kills: string[] = [];
  for (let k = 0; k < 5; k++) {
    await new Promise((r) => setTimeout(r, 300 + rnd.int(2500)));
    const who = rnd.next() < 0.5 ? 'alpha' : 'bravo';
    kills.push(who);
    await pair.kill(who);
    await new Promise((r) => setTimeout(r, 100 + rnd.int(400)));
    await pair.start(who);
  }
  const info = () => `seed ${seed}, kills ${kills.join(',')}; logs:\n${pair!.log.join('').slice(-3000)}`;
  for (let i = 0; i < 1200 && pair.delivered('bravo').length < bodies.size; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up, if there were one
  const files = pair.delivered('bravo');
  const subjects = files.map((f) => /Subject: (\w+)/.exec(f.text)![1]!);
  assert.deepEqual([...subjects].sort(), [...bodies.keys()].sort(), info());
  for (const f of files) {
    const tag = /Subject: (\w+)/.exec(f.text)![1]!;
    assert.ok(f.text.endsWith(bodies.get(tag)!), `${tag} is not byte-identical; ${info()}`);
  }
});
