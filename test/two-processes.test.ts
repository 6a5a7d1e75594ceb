// Two `hfmail start` processes, each with a real serial port (a socat pty), joined by `hfmail sim channel`
// in real time: mail queued while the radio is silent goes out in priority order once it comes up.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RawSmtp } from './support/smtp-client.ts';
import { stationPair } from './support/station-pair.ts';

let pair: Awaited<ReturnType<typeof stationPair>> | undefined;
after(() => pair?.close());

test('two gateway processes over ptys and a simulated radio: delivered in priority order', async () => {
  pair = await stationPair(['--bit-rate', '9600', '--turnaround', '150']);
  // Queued while the radio is silent, in an order that is not the priority order.
  const c = await RawSmtp.connect(pair.ports.alpha);
  await c.ehlo('laptop.field.example');
  for (const [p, tag] of [[-2, 'routine'], [0, 'normal'], [4, 'flash'], [2, 'immediate']] as const) {
    assert.match(await c.cmd(`MAIL FROM:<team@field.example> MT-PRIORITY=${p}`), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
    assert.match(await c.data(`Subject: ${tag}\r\n\r\n${tag} ${'x'.repeat(300)}\r\n`), /^250 /);
  }
  await c.quit();
  pair.radio();
  for (let i = 0; i < 600 && pair.delivered('bravo').length < 4; i++) await new Promise((r) => setTimeout(r, 100));
  const files = pair.delivered('bravo');
  assert.equal(files.length, 4, `delivered ${files.length} of 4; logs:\n${pair.log.join('').slice(-3000)}`);
  assert.deepEqual(files.map((f) => /Subject: (\w+)/.exec(f.text)![1]), ['flash', 'immediate', 'normal', 'routine']);
});
