// Python's smtplib as a real, independent client: the seed dialog, the draft PRIORITY keyword and RFC 6710,
// asserting the replies it saw and what the queue holds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { startGateway } from './support/gateway.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./support/smtplib_client.py', import.meta.url));

test('smtplib: seed dialog, draft PRIORITY, MT-PRIORITY with BY', async () => {
  const gw = await startGateway({ deliverBy: { min: 30 } });
  try {
    const { stdout } = await run('python3', [script, String(gw.port)], { timeout: 30_000 });
    type Reply = [number, string];
    const r = JSON.parse(stdout) as {
      ehlo: { features: string[]; deliverby: string; 'mt-priority': string };
      seed_mail: Reply;
      seed_rcpt1: Reply;
      seed_rcpt2: Reply;
      seed_data: Reply;
      draft: [string, string[]];
      mt5: string[];
      plus3: Reply;
      unknown: Reply;
      both: Reply;
      by0r: Reply;
    };
    for (const kw of ['altrecip', 'deliverby', 'dsn', 'enhancedstatuscodes', 'mt-priority', 'pipelining', 'priority', 'size', 'smtputf8', '8bitmime'])
      assert.ok(r.ehlo.features.includes(kw), `EHLO lacks ${kw}`);
    assert.equal(r.ehlo.deliverby, '30');
    assert.equal(r.ehlo['mt-priority'], 'MIXER');
    assert.equal(r.seed_mail[0], 250);
    assert.equal(r.seed_rcpt1[0], 250);
    assert.equal(r.seed_rcpt2[0], 250);
    assert.match(r.seed_data[1], /^2\.6\.0 /);
    assert.deepEqual(r.draft, ['ok', []]);
    assert.deepEqual(r.mt5, []);
    assert.deepEqual([r.plus3[0], r.plus3[1].slice(0, 5)], [501, '5.5.2']);
    assert.deepEqual([r.unknown[0], r.unknown[1].slice(0, 5)], [555, '5.5.4']);
    assert.deepEqual([r.both[0], r.both[1].slice(0, 5)], [501, '5.5.4']);
    assert.deepEqual([r.by0r[0], r.by0r[1].slice(0, 5)], [501, '5.5.4']);

    const queued = gw.gateway.store.list();
    assert.equal(queued.length, 3);
    // highest priority first: MT-PRIORITY=5, then PRIORITY=40 (band 21..40 -> 4), then the seed message (0)
    assert.deepEqual(queued.map((m) => [m.priority.value, m.priority.source, m.priority.requested]), [
      [5, 'mt-priority', 5],
      [4, 'draft-priority', 40],
      [0, 'policy', undefined],
    ]);
    const seed = queued[2]!;
    assert.equal(seed.params.envid, 'QQ314159');
    assert.equal(seed.params.by?.mode, 'R');
    assert.equal(seed.params.aby?.requestedSeconds, 60);
    assert.equal(seed.recipients[0]?.arcpt?.address, 'bottom-apple@loc2.example.org');
    assert.deepEqual(seed.recipients[1]?.notify, ['SUCCESS', 'FAILURE']);
    assert.equal(seed.recipients[1]?.orcpt?.address, 'Dana@Ivory.example.net');
    const mt5 = queued[0]!;
    assert.deepEqual({ mode: mt5.params.by?.mode, trace: mt5.params.by?.trace, s: mt5.params.by?.requestedSeconds }, { mode: 'N', trace: true, s: 600 });
    assert.deepEqual(mt5.recipients.map((x) => x.notify), ['NEVER', 'NEVER']);
  } finally {
    await gw.stop();
  }
});
