// RFC 5321 4.5.1: postmaster is always accepted, and delivered somewhere local; RFC 6758 3.1: an MT-Priority:
// field the determined priority does not stand behind is rewritten before the message is stored.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { validateConfig } from '../src/gateway/index.ts';
import { Gateway } from '../src/gateway/gateway.ts';
import { replaceMtPriority } from '../src/mail/index.ts';
import pino from 'pino';
import { startGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

/** The queue id from a `250 ... queued as ID` reply. */
const queuedId = (reply: string) => /queued as (\S+)$/.exec(reply)?.[1] ?? assert.fail(`not queued: ${reply}`);

async function until(what: string, cond: () => boolean, realMs = 10_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${realMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('postmaster', () => {
  test('default routes (everything over the radio), an untrusted client: postmaster and postmaster@<our host> accepted, delivered to a Maildir in the data folder', async () => {
    const gw = await startGateway({ trusted: [], hostname: 'alpha.field.example' });
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<someone@evil.example>');
      assert.match(await c.cmd('RCPT TO:<postmaster>'), /^250 2\.1\.5/);
      assert.match(await c.cmd('RCPT TO:<PostMaster@alpha.field.example>'), /^250 2\.1\.5/);
      assert.match(await c.cmd('RCPT TO:<postmaster@elsewhere.example>'), /^550 5\.7\.1 /, 'only our own postmaster');
      assert.match(await c.cmd('RCPT TO:<ops@elsewhere.example>'), /^550 5\.7\.1 /, 'still no open relay');
      const id = queuedId(await c.data('Subject: abuse report\r\n\r\nhello\r\n'));
      await c.quit();
      const stored = gw.gateway.store.get(id)!;
      const maildir = path.join(gw.dir, 'data', 'postmaster');
      assert.deepEqual(
        stored.recipients.map((r) => [r.address, r.route]),
        [
          ['postmaster', { kind: 'maildir', target: maildir }],
          ['PostMaster@alpha.field.example', { kind: 'maildir', target: maildir }],
        ],
      );
      await until('delivered into the Maildir', () => existsSync(path.join(maildir, 'new')) && readdirSync(path.join(maildir, 'new')).length > 0);
      const [file] = readdirSync(path.join(maildir, 'new'));
      assert.match(readFileSync(path.join(maildir, 'new', file!), 'latin1'), /Subject: abuse report/);
    } finally {
      await gw.stop();
    }
  });

  test('with a local maildir route, postmaster at that domain goes there; `postmaster:` makes it an alias with the original kept as ORCPT', async () => {
    const routes = [
      { domains: ['field.example'], via: 'maildir:./mail' },
      { domains: ['*'], via: 'smtp://127.0.0.1:1' },
    ];
    const plain = await startGateway({ trusted: [], routes });
    try {
      const c = await RawSmtp.connect(plain.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<x@evil.example>');
      assert.match(await c.cmd('RCPT TO:<postmaster@field.example>'), /^250 /);
      const id = queuedId(await c.data('Subject: a\r\n\r\nb\r\n'));
      await c.quit();
      const rc = plain.gateway.store.get(id)!.recipients[0]!;
      assert.deepEqual(rc.route, { kind: 'maildir', target: path.join(plain.dir, 'mail') });
    } finally {
      await plain.stop();
    }
    const aliased = await startGateway({ trusted: [], routes, postmaster: 'ops@field.example' });
    try {
      const c = await RawSmtp.connect(aliased.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<x@evil.example>');
      assert.match(await c.cmd('RCPT TO:<postmaster>'), /^250 /);
      const id = queuedId(await c.data('Subject: a\r\n\r\nb\r\n'));
      await c.quit();
      const rc = aliased.gateway.store.get(id)!.recipients[0]!;
      assert.equal(rc.address, 'ops@field.example');
      assert.deepEqual(rc.orcpt, { type: 'rfc822', address: 'postmaster' });
      assert.deepEqual(rc.route, { kind: 'maildir', target: path.join(aliased.dir, 'mail') });
    } finally {
      await aliased.stop();
    }
  });

  test('a `postmaster:` address without a route is a configuration error, found before the data folder is made', (t) => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'hfmail-pm-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const config = validateConfig({ listen: '127.0.0.1:0', data: './data', postmaster: 'ops@nowhere.example', routes: [{ domains: ['field.example'], via: 'maildir:./m' }] });
    assert.throws(() => new Gateway({ config, log: pino({ level: 'silent' }), baseDir: base }), /postmaster: no route for ops@nowhere\.example/);
    assert.ok(!existsSync(path.join(base, 'data')));
  });
});

describe('MT-Priority: header of a message whose priority was not granted', () => {
  const stored = (gw: Awaited<ReturnType<typeof startGateway>>, reply: string) => Buffer.from(gw.gateway.store.get(queuedId(reply))!.content).toString('latin1');

  test('untrusted: the header is rewritten to the effective priority (2.3.6), the rest byte for byte', async () => {
    const gw = await startGateway({ trusted: [], routes: [{ domains: ['field.example'], via: 'maildir:./mail' }] });
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      const body = 'From: a@evil.example\r\nMT-Priority: 9\r\nSubject: urgent!\r\n\r\nMT-Priority: 9 in the body stays\r\n';
      assert.match(await c.cmd('MAIL FROM:<a@evil.example>'), /^250 /);
      await c.cmd('RCPT TO:<ops@field.example>');
      const content = stored(gw, await c.data(body));
      assert.equal(content.slice(content.indexOf('From: a@evil.example')), body.replace('MT-Priority: 9\r\nSubject', 'MT-Priority: 0\r\nSubject'));

      // With MT-PRIORITY=9 on MAIL too: lowered at MAIL (2.3.6), and the header follows.
      assert.match(await c.cmd('MAIL FROM:<a@evil.example> MT-PRIORITY=9'), /^250 2\.3\.6 /);
      await c.cmd('RCPT TO:<ops@field.example>');
      const second = stored(gw, await c.data('MT-Priority: 9 (folded\r\n comment)\r\nmt-priority: 4\r\nSubject: x\r\n\r\nb\r\n'));
      assert.equal(second.slice(second.indexOf('MT-Priority')), 'MT-Priority: 0\r\nSubject: x\r\n\r\nb\r\n');
      await c.quit();
    } finally {
      await gw.stop();
    }
  });

  test('trusted: a header the priority stands behind is kept byte for byte', async () => {
    const gw = await startGateway({ routes: [{ domains: ['field.example'], via: 'maildir:./mail' }] });
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      const body = 'MT-Priority: 5  (flash)\r\nSubject: x\r\n\r\nb\r\n';
      await c.cmd('MAIL FROM:<a@field.example>');
      await c.cmd('RCPT TO:<ops@field.example>');
      assert.ok(stored(gw, await c.data(body)).endsWith(body));
      await c.quit();
    } finally {
      await gw.stop();
    }
  });

  test('replaceMtPriority: every field (folded too) goes, one with the value stands where the first was; no field, no change', () => {
    const text = 'A: 1\r\nMT-Priority: 9\r\n  (x)\r\nB: 2\r\nMt-priority : 3\r\n\r\nMT-Priority: 7\r\n';
    assert.equal(replaceMtPriority(Buffer.from(text), -2).toString(), 'A: 1\r\nMT-Priority: -2\r\nB: 2\r\n\r\nMT-Priority: 7\r\n');
    const none = Buffer.from('A: 1\r\n\r\nbody\r\n');
    assert.ok(replaceMtPriority(none, 0).equals(none));
    assert.equal(replaceMtPriority(Buffer.from('MT-Priority: 4\r\n'), 1).toString(), 'MT-Priority: 1\r\n', 'a message of headers only');
  });
});
