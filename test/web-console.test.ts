// The web console in a real browser: Debian's headless Chromium driven by puppeteer-core loads the page of a
// running gateway, a message sent over SMTP appears in the queue table, its relay attempt shows, Hold makes it
// held, Release lets it go to the smarthost and it moves to the recent deliveries.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { SMTPServer } from 'smtp-server';
import { startGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** A smarthost that answers RCPT with 451 until told to take mail. */
async function smarthost(): Promise<{ port: number; accept(): void; received: string[]; close(): Promise<void> }> {
  let accepting = false;
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo: (address, _session, cb) => {
      if (accepting) return cb();
      cb(Object.assign(new Error('4.3.2 not now, try again later'), { responseCode: 451 }));
      void address;
    },
    onData: (stream, _session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push(Buffer.concat(chunks).toString('latin1'));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    accept: () => (accepting = true),
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function send(port: number, to: string, subject: string): Promise<string> {
  const c = await RawSmtp.connect(port);
  await c.ehlo();
  assert.match(await c.cmd('MAIL FROM:<op@field.example> MT-PRIORITY=4'), /^250/);
  assert.match(await c.cmd(`RCPT TO:<${to}>`), /^250/);
  const reply = await c.data(`From: op@field.example\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nconsole test\r\n`);
  await c.quit();
  const id = /queued as (\S+)/.exec(reply)?.[1];
  assert.ok(id, `no id in ${reply}`);
  return id;
}

/** The text of the queue row of message `id`, or null when the table has none. */
function rowText(page: Page, table: string, id: string): Promise<string | null> {
  return page.evaluate((sel) => document.querySelector(sel)?.textContent ?? null, `#${table} tr[data-id="${id}"]`);
}

test('web console in headless Chromium: a message appears, is held, released, relayed and listed as delivered', { skip: CHROMIUM ? false : 'chromium is not installed (apt-get install chromium; .ci/run installs it)', timeout: 60_000 }, async () => {
  const host = await smarthost();
  const gw = await startGateway({ web: '127.0.0.1:0', routes: [{ domains: ['base.example'], via: `smtp://127.0.0.1:${host.port}` }], relay: { starttls: 'off' } });
  let browser: Browser | undefined;
  try {
    const web = gw.gateway.webAddress!;
    browser = await puppeteer.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${web.port}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('station')?.textContent === 'alpha', { timeout: 10_000 });

    const id = await send(gw.port, 'ops@base.example', 'held and released');
    // It appears, queued, with the relay's first attempt (the smarthost's 451) as the reason it waits.
    await page.waitForFunction((sel) => /451|4\.3\.2/.test(document.querySelector(sel)?.textContent ?? ''), { timeout: 15_000 }, `#queue tr[data-id="${id}"]`);
    const queued = await rowText(page, 'queue', id);
    assert.match(queued!, /queued/);
    assert.match(queued!, /ops@base\.example/);
    assert.match(queued!, /op@field\.example/);

    // Hold: the state becomes held, with the reason.
    await page.click(`#queue tr[data-id="${id}"] button[data-action="hold"]`);
    await page.waitForSelector(`#queue tr[data-id="${id}"] [data-state="held"]`, { timeout: 10_000 });
    assert.match((await rowText(page, 'queue', id))!, /held by operator: held from the web console/);

    // Release with the smarthost now taking mail: relayed at once, gone from the queue, listed as delivered.
    host.accept();
    await page.click(`#queue tr[data-id="${id}"] button[data-action="release"]`);
    await page.waitForSelector(`#recent tr[data-id="${id}"] [data-state="delivered"]`, { timeout: 15_000 });
    await page.waitForFunction((sel) => document.querySelector(sel) === null, { timeout: 10_000 }, `#queue tr[data-id="${id}"]`);
    assert.equal(host.received.filter((m) => m.includes('Subject: held and released')).length, 1);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await gw.stop();
    await host.close();
  }
});
