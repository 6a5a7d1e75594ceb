// Configuration errors name the key and the path: the listen port's range, unusable TLS files, a data folder
// that cannot be created or written; and the new keys' defaults.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ConfigError, Gateway, validateConfig } from '../src/gateway/index.ts';

const run = promisify(execFile);
const silent = pino({ level: 'silent' });

describe('listen', () => {
  test('a port above 65535 is refused by validation, naming listen', () => {
    assert.throws(() => validateConfig({ listen: '127.0.0.1:99999' }, 'station.yaml'), /station\.yaml: listen: the port must be from 1 to 65535/);
    assert.throws(() => validateConfig({ listen: '127.0.0.1:65536' }), /listen: the port must be from 1 to 65535/);
    assert.equal(validateConfig({ listen: '127.0.0.1:65535' }).listen, '127.0.0.1:65535');
    assert.equal(validateConfig({ listen: '[::1]:25' }).listen, '[::1]:25');
  });
});

describe('defaults of the hardening keys', () => {
  test('auth, connection and memory limits, the free-space floor', () => {
    const c = validateConfig({});
    assert.deepEqual(c.auth, { allowPlaintextOnLoopback: false, maxFailures: 10, failureWindowS: 900, maxDelayS: 30 });
    assert.equal(c.limits.maxConnections, 200);
    assert.equal(c.limits.maxConnectionsPerClient, 20);
    assert.equal(c.limits.maxDataBytesInMemory, 64 * 1024 * 1024);
    assert.equal(c.queue.minFreeBytes, 50 * 1024 * 1024);
    assert.equal(c.postmaster, undefined);
  });
});

describe('tls', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-cfg-tls-'));
    for (const name of ['a', 'b'])
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', path.join(dir, `${name}-key.pem`), '-out', path.join(dir, `${name}-cert.pem`)]);
    writeFileSync(path.join(dir, 'garbage.pem'), 'not a pem file\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const open = (tls: { key: string; cert: string }) => () => new Gateway({ config: validateConfig({ listen: '127.0.0.1:0', data: path.join(dir, 'data'), tls }), log: silent, baseDir: dir });

  test('a missing file names its key and path', () => {
    assert.throws(open({ key: 'nope.pem', cert: 'a-cert.pem' }), (e: Error) => e instanceof ConfigError && e.message.startsWith(`tls.key: cannot read ${path.join(dir, 'nope.pem')}: ENOENT`));
    assert.throws(open({ key: 'a-key.pem', cert: 'nope.pem' }), (e: Error) => e instanceof ConfigError && e.message.startsWith(`tls.cert: cannot read ${path.join(dir, 'nope.pem')}: ENOENT`));
  });

  test('a file that is not a key or certificate names its key and path, at load rather than at the first STARTTLS', () => {
    assert.throws(open({ key: 'garbage.pem', cert: 'a-cert.pem' }), (e: Error) => e.message.startsWith(`tls.key: ${path.join(dir, 'garbage.pem')} is not a usable private key`));
    assert.throws(open({ key: 'a-key.pem', cert: 'garbage.pem' }), (e: Error) => e.message.startsWith(`tls.cert: ${path.join(dir, 'garbage.pem')} is not a usable certificate`));
    assert.throws(open({ key: 'a-cert.pem', cert: 'a-cert.pem' }), /tls\.key: .*a-cert\.pem is not a usable private key/);
  });

  test('a key that does not belong to the certificate names both', () => {
    assert.throws(open({ key: 'a-key.pem', cert: 'b-cert.pem' }), /tls\.key, tls\.cert: the key .*a-key\.pem does not belong to the certificate .*b-cert\.pem/);
  });
});

describe('data', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-cfg-data-'));
  });
  after(() => {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (data: string) => () => new Gateway({ config: validateConfig({ listen: '127.0.0.1:0', data }), log: silent, baseDir: dir });

  test('a data folder under a file (cannot be created) names data and the path', () => {
    writeFileSync(path.join(dir, 'plain-file'), '');
    const data = path.join(dir, 'plain-file', 'q');
    assert.throws(open(data), (e: Error) => e instanceof ConfigError && e.message.startsWith(`data: cannot create or write the data folder ${data} (ENOTDIR)`));
  });

  test('a data folder under a read-only parent names data and the path', (t) => {
    if (process.getuid?.() === 0) return t.skip('root writes through file permissions');
    const parent = path.join(dir, 'read-only');
    writeFileSync(path.join(dir, 'marker'), '');
    rmSync(path.join(dir, 'marker'));
    chmodSync(dir, 0o555);
    t.after(() => chmodSync(dir, 0o700));
    const data = path.join(parent, 'q');
    assert.throws(open(data), (e: Error) => e instanceof ConfigError && e.message.startsWith(`data: cannot create or write the data folder ${data} (EACCES)`));
  });
});
