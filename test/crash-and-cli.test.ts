// The product as a user runs it: `hfmail start` as a process, killed with SIGKILL during DATA and right after
// the 250, restarted on the same data folder; `hfmail queue` shows what survived; config errors are readable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { MessageStore } from '../src/queue/index.ts';
import { freePort, GatewayProcess, HFMAIL_BIN } from './support/gateway-process.ts';
import { RawSmtp } from './support/smtp-client.ts';

const run = promisify(execFile);

async function hfmail(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HFMAIL_BIN, ...args], { timeout: 30_000, cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('SIGKILL and restart', () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = new GatewayProcess(await freePort());
    gw.start();
    await gw.waitReady();
  });
  after(async () => {
    await gw.stop();
    gw.removeDir();
  });

  test('killed during DATA: no message, not even a partial one, after restart', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    await c.cmd('MAIL FROM:<a@field.example> MT-PRIORITY=4');
    await c.cmd('RCPT TO:<b@base.example>');
    assert.match(await c.cmd('DATA'), /^354/);
    c.write('Subject: cut off\r\n\r\n' + 'half a message\r\n'.repeat(200));
    await new Promise((r) => setTimeout(r, 100));
    await gw.kill();
    c.destroy();
    gw.start();
    await gw.waitReady();
    const q = await hfmail(['queue', '--data', gw.dataDir, '--json']);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(JSON.parse(q.stdout), []);
  });

  test('killed right after the 250: the message is there after restart, byte-exact, with its envelope', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo('laptop.field.example');
    await c.cmd('MAIL FROM:<eljefe@field.example> BY=120;R ENVID=QQ314159 ABY=60;R MT-PRIORITY=2');
    await c.cmd('RCPT TO:<topbanana@base.example> ARCPT=rfc822;bottom-apple@loc2.example.org');
    await c.cmd('RCPT TO:<Dana@Ivory.base.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.base.example');
    const body = 'Subject: survives\r\n\r\n' + Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(i % 70)}`).join('\r\n') + '\r\n';
    const reply = await c.data(body);
    await gw.kill(); // at once: the 250 must already mean "on disk"
    c.destroy();
    const id = /queued as (\S+)/.exec(reply)?.[1];
    assert.ok(id, reply);

    gw.start();
    await gw.waitReady();
    const q = await hfmail(['queue', '--data', gw.dataDir, '--json']);
    const list = JSON.parse(q.stdout) as { id: string; envid: string; priority: { value: number; source: string }; by: { mode: string } | null; aby: { mode: string } | null; recipients: { address: string; arcpt?: string; notify: string | null; orcpt?: string; route: string; state: string }[] }[];
    assert.equal(list.length, 1);
    const m = list[0]!;
    assert.equal(m.id, id);
    assert.equal(m.envid, 'QQ314159');
    assert.deepEqual(m.priority.value, 2);
    assert.equal(m.by?.mode, 'R');
    assert.equal(m.aby?.mode, 'R');
    assert.deepEqual(m.recipients, [
      { address: 'topbanana@base.example', notify: null, arcpt: 'rfc822;bottom-apple@loc2.example.org', route: 'link:bravo', state: 'queued' },
      { address: 'Dana@Ivory.base.example', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;Dana@Ivory.base.example', route: 'link:bravo', state: 'queued' },
    ]);
    const store = MessageStore.open(gw.dataDir);
    try {
      const content = Buffer.from(store.get(id)!.content).toString('latin1');
      assert.ok(content.startsWith('Received: from laptop.field.example'));
      assert.ok(content.endsWith('\r\n' + body), 'content after our Received line is what the client sent');
    } finally {
      store.close();
    }
  });
});

describe('hfmail queue and config errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a bad config file is an error naming the file, the key and what is wrong', async () => {
    const file = path.join(dir, 'station.yaml');
    writeFileSync(file, 'station: alpha\npriority:\n  policy: FOO\nlisten: nowhere\nroutes:\n  - { domains: [x.example], via: "carrier-pigeon" }\nbogus: 1\n');
    const r = await hfmail(['start', '--config', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /station\.yaml: priority\.policy: Invalid option: expected one of "MIXER"\|"STANAG4406"\|"NSEP"/);
    assert.match(r.stderr, /station\.yaml: listen: expected HOST:PORT/);
    assert.match(r.stderr, /station\.yaml: routes\.0\.via: expected maildir:PATH, lmtp:\/\/HOST:PORT, smtp:\/\/HOST:PORT, mx or link:PEER/);
    assert.match(r.stderr, /station\.yaml: bogus: unknown key/);
  });

  test('a missing config file and broken YAML are named too', async () => {
    const missing = await hfmail(['start', '--config', path.join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml: cannot read/);
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'station: [unclosed\n');
    const r = await hfmail(['start', '--config', broken]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.yaml: not valid YAML/);
  });

  test('queue: the data folder comes from the config file, relative to it; the text view names levels', async () => {
    const gw = new GatewayProcess(await freePort());
    writeFileSync(path.join(gw.dir, 'station.yaml'), `listen: 127.0.0.1:${gw.port}\ndata: ./spool\npriority: { policy: STANAG4406, labels: { "4": dod.flash } }\n`);
    try {
      const child = (await import('node:child_process')).spawn(process.execPath, [HFMAIL_BIN, 'start', '--config', path.join(gw.dir, 'station.yaml')], { stdio: 'ignore' });
      try {
        await waitGreeting(gw.port);
        const c = await RawSmtp.connect(gw.port);
        await c.ehlo();
        await c.cmd('MAIL FROM:<ops@field.example> MT-PRIORITY=4');
        await c.cmd('RCPT TO:<hq@base.example>');
        assert.match(await c.data('Subject: flash\r\n\r\nx\r\n'), /^250 /);
        await c.quit();
        const text = await hfmail(['queue', '--config', path.join(gw.dir, 'station.yaml')], dir);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /prio \+4 \(dod\.flash, mt-priority\)/);
        assert.match(text.stdout, /-> <hq@base\.example> queued {2}via link:bravo/);
        assert.match(text.stdout, /1 message\(s\)/);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      gw.removeDir();
    }
  });
});

async function waitGreeting(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const c = await RawSmtp.connect(port);
      await c.quit();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

describe('links that cannot open', () => {
  test('a missing device is reported and mail is still accepted and queued for the link', async () => {
    const gw = new GatewayProcess(await freePort());
    writeFileSync(path.join(gw.dir, 'k.key'), 'sixteen bytes or more of key');
    writeFileSync(path.join(gw.dir, 'station.yaml'), `listen: 127.0.0.1:${gw.port}\ndata: ./q\nlinks:\n  - { peer: bravo, port: /dev/ttyNONEXISTENT9, profile: direwolf-afsk1200, key: ./k.key }\n`);
    const logs: string[] = [];
    const child = (await import('node:child_process')).spawn(process.execPath, [HFMAIL_BIN, 'start', '--config', path.join(gw.dir, 'station.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    try {
      await waitGreeting(gw.port);
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<a@field.example>');
      await c.cmd('RCPT TO:<b@base.example>');
      assert.match(await c.data('Subject: waits\r\n\r\nx\r\n'), /^250 2\.6\.0 /);
      await c.quit();
      // The link opens after SMTP listens (serialport loads on first use): its failure may be logged a moment later.
      for (const end = Date.now() + 10_000; !/cannot open serial port/.test(logs.join('')) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
      assert.match(logs.join(''), /cannot open serial port \/dev\/ttyNONEXISTENT9/);
      const q = await hfmail(['queue', '--config', path.join(gw.dir, 'station.yaml'), '--json']);
      assert.equal((JSON.parse(q.stdout) as { recipients: { route: string }[] }[])[0]?.recipients[0]?.route, 'link:bravo');
    } finally {
      child.kill('SIGKILL');
      gw.removeDir();
    }
  });

  test('an unknown profile or a missing key file stops the start with a clear error', async () => {
    const dir2 = mkdtempSync(path.join(os.tmpdir(), 'hfmail-badlink-'));
    try {
      writeFileSync(path.join(dir2, 's.yaml'), `listen: 127.0.0.1:${await freePort()}\ndata: ./q\nlinks:\n  - { peer: bravo, port: /dev/null, profile: no-such-modem, key: ./k.key }\n`);
      const r = await hfmail(['start', '--config', path.join(dir2, 's.yaml')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /profile "no-such-modem" is not one of: .*direwolf-afsk1200/);
      writeFileSync(path.join(dir2, 's.yaml'), `listen: 127.0.0.1:${await freePort()}\ndata: ./q\nlinks:\n  - { peer: bravo, port: /dev/null, profile: kiss-9600, key: ./missing.key }\n`);
      const r2 = await hfmail(['start', '--config', path.join(dir2, 's.yaml')]);
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /key file .*missing\.key: ENOENT/);
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
