// Postfix's smtp-source as a load generator: a HELO-only client with its own pacing, many sessions at once.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { startGateway } from './support/gateway.ts';

const run = promisify(execFile);
const SMTP_SOURCE = ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'].find((p) => existsSync(p)) ?? 'smtp-source';

test('smtp-source: 200 messages over 5 parallel HELO sessions are all queued, byte counts intact', async () => {
  const gw = await startGateway();
  try {
    // -s sessions, -m messages, -l size, -c no progress dots; it exits non-zero on any refused reply.
    await run(SMTP_SOURCE, ['-4', '-s', '5', '-m', '200', '-l', '2000', '-f', 'load@field.example', '-t', 'sink@base.example', `127.0.0.1:${gw.port}`], { timeout: 60_000 });
    const list = gw.gateway.store.list();
    assert.equal(list.length, 200);
    for (const m of list) {
      assert.equal(m.sender, 'load@field.example');
      assert.deepEqual(m.recipients.map((r) => r.address), ['sink@base.example']);
    }
    const one = gw.gateway.store.get(list[0]!.id)!;
    const text = Buffer.from(one.content).toString('latin1');
    assert.match(text, /^Received: from \S+ \(\[127\.0\.0\.1\]\) by alpha with SMTP id /, 'HELO sessions are recorded as SMTP');
  } finally {
    await gw.stop();
  }
});
