// A wrong pre-shared key is a clear error on both stations (log and `hfmail status`), the link stays down, and
// mail is still accepted and queued for it. Two gateways in one process, over a simulated radio in virtual time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { VirtualTimeDriver } from './support/virtual-time.ts';

test('different keys: the hello fails with an error naming the key on both sides; mail waits in the queue', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-key-'));
  const lines: { level: number; msg: string; station: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string; station: string });
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const clock = new VirtualClock();
  const radio = createChannel({ bitRate: 2400, duplex: 'half', turnaroundMs: 1500 }, clock, new SeededRandom(3));
  writeFileSync(path.join(dir, 'alpha.key'), 'the key alpha was given, 32 bytes');
  writeFileSync(path.join(dir, 'bravo.key'), 'a different key that bravo holds');
  const cfg = (name: string, peer: string) =>
    validateConfig({ station: name, listen: '127.0.0.1:0', data: `./${name}`, routes: [{ domains: ['*'], via: `link:${peer}` }], links: [{ peer, port: 'radio', profile: 'stanag4539-2400', key: `./${name}.key` }] });
  const alpha = new Gateway({ config: cfg('alpha', 'bravo'), log: log.child({ station: 'alpha' }), baseDir: dir, clock, linkPorts: { bravo: radio.a } });
  const bravo = new Gateway({ config: cfg('bravo', 'alpha'), log: log.child({ station: 'bravo' }), baseDir: dir, clock, linkPorts: { alpha: radio.b } });
  try {
    await alpha.start();
    await bravo.start();
    const c = await RawSmtp.connect(alpha.address!.port);
    await c.ehlo('laptop.field.example');
    assert.match(await c.cmd('MAIL FROM:<team@field.example>'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
    const id = /queued as (\S+)/.exec(await c.data('Subject: waits for the key\r\n\r\nbody\r\n'))![1]!;
    await c.quit();

    const drive = new VirtualTimeDriver(clock, () => alpha.relay.busy || bravo.relay.busy);
    const failed = (station: string) => lines.some((l) => l.station === station && l.level === 50 && /(could not prove|without proving) the shared key.*; links\[\]\.key must name a file with the same key on both stations/.test(l.msg));
    await drive.until('an authentication error on both stations', () => failed('alpha') && failed('bravo'), { virtualMs: 600_000, realMs: 20_000 });
    assert.equal(alpha.links.get('bravo')!.snapshot().up, false);
    assert.match(String(alpha.links.get('bravo')!.snapshot().problem), /bravo could not prove the shared key/);
    assert.match(String(bravo.links.get('alpha')!.snapshot().problem), /alpha called 3 times without proving the shared key/);
    // Still queued for the link, nothing lost.
    assert.deepEqual(alpha.store.get(id)!.recipients.map((r) => [r.state, r.route.kind]), [['queued', 'link']]);
    assert.equal(bravo.store.get(id), undefined);
  } finally {
    await alpha.stop();
    await bravo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
