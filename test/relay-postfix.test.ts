// A real Postfix as the next hop (it lacks MT-PRIORITY, DELIVERBY and ALTRECIP): the tunnelled MT-Priority:
// header in the delivered file, R mode refused with a failed DSN, N mode relayed with a "relayed" DSN.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { freePort } from './support/gateway-process.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./support/postfix-up.sh', import.meta.url));
let gw: TestGateway;
let sinkDir: string;

before(async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'hfmail-postfix-'));
  const port = await freePort();
  // Postfix starts as root; elsewhere through sudo (CI installs it with apt-get the same way).
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'bash' : 'sudo', asRoot ? [script, String(port), base] : ['bash', script, String(port), base], { timeout: 60_000 });
  sinkDir = path.join(base, 'mail', 'sink');
  gw = await startGateway({
    hostname: 'bravo.base.example',
    routes: [
      { domains: ['field.example'], via: 'maildir:./mail' },
      { domains: ['example.net'], via: `smtp://127.0.0.1:${port}` },
    ],
  });
});
after(() => gw?.stop());

async function send(mail: string, rcpt: string, subject: string): Promise<void> {
  const c = await RawSmtp.connect(gw.port);
  await c.ehlo('check.example.com');
  assert.match(await c.cmd(`MAIL FROM:<eljefe@field.example> ${mail}`), /^250 /);
  assert.match(await c.cmd(`RCPT TO:${rcpt}`), /^250 /);
  assert.match(await c.data(`From: eljefe@field.example\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@check>\r\n\r\nbody\r\n`), /^250 /);
  await c.quit();
}

async function find(dir: string, needle: string, ms = 30_000): Promise<string | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const sub of ['new', 'cur']) {
      let files: string[] = [];
      try {
        files = readdirSync(path.join(dir, sub));
      } catch {
        // not created yet
      }
      for (const f of files) {
        const text = readFileSync(path.join(dir, sub, f), 'utf8');
        if (text.includes(needle)) return text;
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

test('Postfix: MT-PRIORITY=5 arrives as one MT-Priority: 5 header; our Received line has PRIORITY 5', async () => {
  await send('MT-PRIORITY=5', '<pf1@example.net>', 'pfprio');
  const file = await find(sinkDir, 'pfprio@check');
  assert.ok(file, 'not delivered by Postfix');
  const head = file.split('\n\n')[0]!;
  assert.equal(head.match(/^MT-Priority:/gim)?.length, 1);
  assert.match(head, /^MT-Priority: 5\r?$/m);
  assert.match(head, /PRIORITY 5;/);
});

test('Postfix: BY=R is not relayed and a failed DSN (5.3.3) comes back; BY=N is relayed with a relayed DSN', async () => {
  await send('BY=600;R', '<pf2@example.net> NOTIFY=FAILURE', 'pfrmode');
  await send('BY=600;N', '<pf3@example.net> NOTIFY=SUCCESS,FAILURE', 'pfnmode');
  const local = path.join(gw.dir, 'mail');
  const failed = await find(local, 'pfrmode@check');
  assert.ok(failed && /Action: failed/.test(failed) && /Status: 5\.3\.3/.test(failed), 'no failed DSN for the R-mode message');
  assert.equal(await find(sinkDir, 'pfrmode@check', 1000), undefined, 'R-mode message relayed to a hop without DELIVERBY');
  assert.ok(await find(sinkDir, 'pfnmode@check'), 'N-mode message not relayed');
  const relayed = await find(local, 'pfnmode@check');
  assert.ok(relayed && /Action: relayed/.test(relayed), 'no relayed DSN for the N-mode message');
});
