// swaks (a client nobody here wrote): plain submission, pipelining, AUTH over STARTTLS, and its exit codes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../src/gateway/index.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';

const run = promisify(execFile);

async function swaks(port: number, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('swaks', ['--server', `127.0.0.1:${port}`, '--helo', 'swaks.example', ...args], { timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('swaks, plain', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.stop());

  test('plain submission is queued with its headers intact', async () => {
    const r = await swaks(gw.port, ['--from', 'ops@field.example', '--to', 'hq@base.example', '--header', 'Subject: sitrep 0600', '--body', 'all well']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /<- {2}250 2\.6\.0 Message accepted, queued as /);
    const [m] = gw.gateway.store.list();
    assert.equal(m?.sender, 'ops@field.example');
    const stored = gw.gateway.store.get(m!.id)!;
    assert.match(Buffer.from(stored.content).toString(), /^Received: from swaks\.example [^]*\r\nDate: [^]*Subject: sitrep 0600\r\n[^]*all well/);
  });

  test('pipelining: every reply in order, message queued', async () => {
    const before = gw.gateway.store.count();
    const r = await swaks(gw.port, ['--pipeline', '--from', 'a@field.example', '--to', 'b@base.example,c@base.example']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /250 2\.1\.0[^]*250 2\.1\.5[^]*250 2\.1\.5[^]*354[^]*250 2\.6\.0/);
    assert.equal(gw.gateway.store.count(), before + 1);
  });

  test('a refused sender gives swaks exit code 23', async () => {
    const r = await swaks(gw.port, ['--from', 'jörg@field.example', '--to', 'b@base.example']);
    assert.equal(r.code, 23, r.out);
    assert.match(r.out, /550 5\.6\.7/);
  });
});

describe('swaks, AUTH over STARTTLS', () => {
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    // A self-signed certificate for the test; the gateway reads the paths relative to its base folder.
    dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-tls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=gw.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
    gw = await startGateway({
      trusted: ['192.0.2.0/24'],
      users: [{ name: 'ops', hash: await hashPassword('s3cret'), maxPriority: 4 }],
      tls: { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') },
    });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('STARTTLS then AUTH PLAIN; the user may relay, up to its ceiling', async () => {
    const r = await swaks(gw.port, ['--tls', '--auth', 'PLAIN', '--auth-user', 'ops', '--auth-password', 's3cret', '--from', 'ops@field.example', '--to', 'hq@base.example']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /250-STARTTLS/);
    assert.match(r.out, /235 /);
    const [m] = gw.gateway.store.list();
    assert.equal(m?.submitter.user, 'ops');
    assert.match(Buffer.from(gw.gateway.store.get(m!.id)!.content).toString(), /with ESMTPSA/);
  });

  test('wrong password -> 535 5.7.8 (swaks exit 28), and no relaying without AUTH', async () => {
    const bad = await swaks(gw.port, ['--tls', '--auth', 'PLAIN', '--auth-user', 'ops', '--auth-password', 'nope', '--from', 'ops@field.example', '--to', 'hq@base.example']);
    assert.equal(bad.code, 28, bad.out);
    assert.match(bad.out, /535 5\.7\.8/);
    const anon = await swaks(gw.port, ['--tls', '--from', 'ops@field.example', '--to', 'hq@base.example']);
    assert.equal(anon.code, 24, anon.out);
    assert.match(anon.out, /550 5\.7\.1/);
  });
});
