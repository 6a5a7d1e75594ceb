// SMTP AUTH hardening: TLS first (538 5.7.11), scrypt hashes, `hfmail passwd`, failures delayed and limited per
// client on the injected clock (a VirtualClock here, so the delays are proved without waiting for them).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { hashPassword, validateConfig, verifyPassword } from '../src/gateway/index.ts';
import { passwordHashProblem } from '../src/gateway/passwords.ts';
import { FrontDoor, isLoopback } from '../src/smtp/front-door.ts';
import { AuthGuard } from '../src/smtp/auth-guard.ts';
import { captureLog } from './support/log-capture.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

const run = promisify(execFile);
const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');
const FAST = { N: 1024, r: 8, p: 1 }; // cheap parameters where only the format matters

/** Polls a condition that real I/O (scrypt in the thread pool, a socket) makes true; never used to prove absence. */
async function until(what: string, cond: () => boolean, realMs = 10_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${realMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('password hashes', () => {
  test('scrypt$N$r$p$salt$key, salted: the same password hashes differently, and verifies', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(a, b);
    assert.equal(passwordHashProblem(a), null);
    assert.equal(await verifyPassword('correct horse', a), true);
    assert.equal(await verifyPassword('correct horsf', a), false);
    assert.equal(await verifyPassword('correct horse ', a), false, 'a longer password is just a wrong one');
    assert.equal(await verifyPassword('', a), false);
  });

  test('the parameters travel in the string: a hash made with other ones still verifies', async () => {
    const h = await hashPassword('pw', FAST);
    assert.match(h, /^scrypt\$1024\$8\$1\$/);
    assert.equal(await verifyPassword('pw', h), true);
  });

  test('an unknown user (no hash) is refused, after the same work as a known one', async () => {
    assert.equal(await verifyPassword('anything', null), false);
  });

  test('malformed and absurd hashes are named', () => {
    assert.match(passwordHashProblem('secret')!, /hfmail passwd/);
    assert.match(passwordHashProblem('scrypt$3000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + 'A'.repeat(43) + '=')!, /power of two/);
    assert.match(passwordHashProblem('scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + 'A'.repeat(43) + '=')!, /power of two from 2 to 1048576/);
  });
});

describe('users: in the station file', () => {
  test('a plain-text password is refused, naming the user and the command to run', () => {
    assert.throws(
      () => validateConfig({ users: [{ name: 'ops', password: 'secret', maxPriority: 6 }] }, 'station.yaml'),
      (err: Error) => /station\.yaml: users\.0\.password: user "ops": plain-text passwords are not accepted; run `hfmail passwd ops`/.test(err.message) && !err.message.includes('secret'),
    );
  });

  test('an entry without a hash, or with a bad one, is refused', async () => {
    assert.throws(() => validateConfig({ users: [{ name: 'ops' }] }), /users\.0\.hash: user "ops" has no hash/);
    assert.throws(() => validateConfig({ users: [{ name: 'ops', hash: 'nope' }] }), /users\.0\.hash: user "ops": expected scrypt/);
    const cfg = validateConfig({ users: [{ name: 'ops', hash: await hashPassword('x', FAST), maxPriority: 6 }] });
    assert.deepEqual(Object.keys(cfg.users[0]!).sort(), ['hash', 'maxPriority', 'name']);
  });
});

describe('hfmail passwd', () => {
  const cli = (args: string[], input?: string) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/hfmail.js', 'passwd', ...args], { env: { ...process.env, HFMAIL_FROM_SOURCE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
      child.stdin.end(input ?? '');
    });

  test('--password: one users: entry as a YAML flow mapping, on the last line, that a station file accepts', async () => {
    const r = await cli(['ops', '--password', 'correct horse']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.match(line, /^\{ name: ops, hash: "scrypt\$[^"]+" \}$/);
    assert.ok(!line.includes('correct horse'));
    const { parse } = await import('yaml');
    const cfg = validateConfig(parse(`users:\n  - ${line}\n`));
    assert.equal(await verifyPassword('correct horse', cfg.users[0]!.hash), true);
  });

  test('without --password it reads the first line of stdin; --config lends the old entry its ceiling', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-passwd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const station = path.join(dir, 'station.yaml');
    writeFileSync(station, 'users:\n  - { name: ops, password: old, maxPriority: 6 }\n');
    const r = await cli(['ops', '--config', station], 'n3w pass\nignored\n');
    assert.equal(r.code, 0, r.err);
    const line = r.out.trimEnd();
    assert.match(line, /^\{ name: ops, hash: "scrypt\$[^"]+", maxPriority: 6 \}$/);
    const { parse } = await import('yaml');
    const cfg = validateConfig(parse(`users:\n  - ${line}\n`));
    assert.equal(cfg.users[0]!.maxPriority, 6);
    assert.equal(await verifyPassword('n3w pass', cfg.users[0]!.hash), true);
  });
});

describe('the front door decides who may AUTH', () => {
  const door = (allowPlaintextOnLoopback: boolean) =>
    new FrontDoor({ auth: { allowPlaintextOnLoopback, maxFailures: 3, failureWindowMs: 60_000, maxDelayMs: 30_000 }, authEnabled: true, connections: { total: 10, perClient: 5 }, maxDataBytesInMemory: 1000 }, new VirtualClock(), captureLog().log);
  const session = (remoteAddress: string, secure: boolean) => ({ remoteAddress, secure }) as never;

  test('loopback is 127.0.0.0/8 and ::1 in any spelling, nothing else', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) assert.ok(isLoopback(a), a);
    for (const a of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', '192.0.2.127', 'fe80::1']) assert.ok(!isLoopback(a), a);
  });

  test('clear text from loopback only when the station allows it; never from another address; always over TLS', () => {
    assert.equal(door(false).authRefusal(session('127.0.0.1', false))?.enhanced, '5.7.11');
    assert.equal(door(true).authRefusal(session('127.0.0.1', false)), null);
    assert.deepEqual(door(true).authRefusal(session('192.0.2.7', false)), { code: 538, enhanced: '5.7.11', text: 'Encryption required for requested authentication mechanism' });
    assert.equal(door(true).offerAuth(session('192.0.2.7', false)), false);
    assert.equal(door(false).authRefusal(session('192.0.2.7', true)), null);
    assert.equal(door(false).offerAuth(session('192.0.2.7', true)), true);
  });
});

describe('AUTH only after STARTTLS (a real TLS session)', () => {
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-tls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=gw.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
    gw = await startGateway({ trusted: [], users: [{ name: 'ops', hash: await hashPassword('s3cret'), maxPriority: 4 }], tls: { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') } });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('before TLS: no AUTH in EHLO and 538 5.7.11 to AUTH, even from loopback; after STARTTLS: offered and accepted', async () => {
    const c = await RawSmtp.connect(gw.port);
    const ehlo = await c.ehlo();
    assert.match(ehlo, /250-STARTTLS/);
    assert.doesNotMatch(ehlo, /AUTH/);
    assert.equal(await c.cmd(`AUTH PLAIN ${plain('ops', 's3cret')}`), '538 5.7.11 Encryption required for requested authentication mechanism');
    assert.equal(await c.cmd('AUTH LOGIN'), '538 5.7.11 Encryption required for requested authentication mechanism');
    assert.match(await c.starttls(), /^220 /);
    const secured = await c.ehlo();
    assert.match(secured, /250-AUTH LOGIN PLAIN/);
    assert.match(await c.cmd(`AUTH PLAIN ${plain('ops', 's3cret')}`), /^235 /);
    assert.match(await c.cmd('MAIL FROM:<ops@field.example> MT-PRIORITY=4'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<hq@base.example>'), /^250 2\.1\.5/, 'an authenticated user may relay');
    await c.quit();
  });
});

describe('AUTH without TLS', () => {
  test('with no TLS configured and no loopback permission, AUTH is neither offered nor accepted', async () => {
    const gw = await startGateway({ users: [{ name: 'ops', hash: await hashPassword('pw', FAST) }] });
    try {
      const c = await RawSmtp.connect(gw.port);
      const ehlo = await c.ehlo();
      assert.doesNotMatch(ehlo, /AUTH|STARTTLS/);
      assert.match(await c.cmd(`AUTH PLAIN ${plain('ops', 'pw')}`), /^538 5\.7\.11 /);
      await c.quit();
    } finally {
      await gw.stop();
    }
  });

  test('a check that fails (not a wrong password) is 454 4.7.0, logged, and the connection lives on', async () => {
    const captured = captureLog('info');
    const gw = await startGateway({ users: [{ name: 'ops', hash: await hashPassword('pw', FAST) }], auth: { allowPlaintextOnLoopback: true } }, { log: captured.log });
    try {
      const policy = (gw.gateway.smtp as unknown as { deps: { policy: { authenticate: () => Promise<number | null> } } }).deps.policy;
      policy.authenticate = () => Promise.reject(new Error('scrypt: out of memory'));
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      assert.equal(await c.cmd(`AUTH PLAIN ${plain('ops', 'pw')}`), '454 4.7.0 Temporary authentication failure');
      assert.match(await c.cmd('NOOP'), /^250 /);
      assert.ok(captured.lines.some((l) => l.msg === 'AUTH could not be checked'));
      await c.quit();
    } finally {
      await gw.stop();
    }
  });

  test('auth.allowPlaintextOnLoopback: offered and accepted in clear on 127.0.0.1', async () => {
    const gw = await startGateway({ users: [{ name: 'ops', hash: await hashPassword('pw', FAST) }], auth: { allowPlaintextOnLoopback: true } });
    try {
      const c = await RawSmtp.connect(gw.port);
      assert.match(await c.ehlo(), /250-AUTH LOGIN PLAIN/);
      assert.match(await c.cmd(`AUTH PLAIN ${plain('ops', 'pw')}`), /^235 /);
      await c.quit();
    } finally {
      await gw.stop();
    }
  });
});

describe('failed AUTH: delayed, limited per client address, logged', () => {
  test('AuthGuard: 1 s, 2 s, 4 s ... capped; refused past maxFailures until the window moves on', async () => {
    const clock = new VirtualClock();
    const { log, lines } = captureLog();
    const guard = new AuthGuard({ maxFailures: 5, failureWindowMs: 600_000, maxDelayMs: 5_000 }, clock, log);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      assert.ok(guard.mayTry('192.0.2.1'));
      const start = clock.now();
      let done = false;
      void guard.failed('192.0.2.1', 'ops', 'PLAIN').then(() => (done = true));
      while (!done) await clock.runUntil(clock.nextAt()!);
      delays.push(clock.now() - start);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000]);
    assert.equal(guard.mayTry('192.0.2.1'), false);
    assert.equal(guard.mayTry('192.0.2.2'), true, 'another address is not affected');
    assert.equal(lines.filter((l) => l.msg === 'AUTH failed').length, 4);
    assert.equal(lines.filter((l) => l.locked === true).length, 1);
    assert.ok(lines.every((l) => l.client === '192.0.2.1' && l.user === 'ops'));
    await clock.runUntil(clock.now() + 600_000 - 17_000); // the first failure leaves the window
    assert.equal(guard.mayTry('192.0.2.1'), true);
  });

  test('over SMTP: the 535 comes only when the virtual clock reaches the delay; then 454 4.7.0; the password is never logged', async () => {
    const clock = new VirtualClock();
    const captured = captureLog('info');
    const gw = await startGateway(
      { users: [{ name: 'ops', hash: await hashPassword('right', FAST) }], auth: { allowPlaintextOnLoopback: true, maxFailures: 2, failureWindowS: 60 } },
      { clock, log: captured.log },
    );
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      const failures = () => captured.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('AUTH failed')).length;
      for (const [n, delay] of [
        [1, 1000],
        [2, 2000],
      ] as const) {
        c.write(`AUTH PLAIN ${plain('ops', 'wrong-guess')}\r\n`);
        await until('the failure is noted', () => failures() === n);
        const t0 = clock.now();
        await clock.runUntil(t0 + delay - 1);
        await new Promise((r) => setImmediate(r));
        assert.equal(c.hasReply(), false, `no answer ${delay - 1} ms after failure ${n}`);
        await clock.runUntil(t0 + delay);
        assert.equal(await c.reply(), '535 5.7.8 Authentication credentials invalid');
      }
      // Two failures in the window: this address may not try again, not even with the right password.
      assert.equal(await c.cmd(`AUTH PLAIN ${plain('ops', 'right')}`), '454 4.7.0 Too many failed authentications from your address; try again later');
      const other = await RawSmtp.connect(gw.port);
      await other.ehlo();
      assert.match(await other.cmd(`AUTH PLAIN ${plain('ops', 'right')}`), /^454 4\.7\.0 /, 'the limit is per address, not per connection');
      await clock.runUntil(clock.now() + 60_000);
      assert.match(await other.cmd(`AUTH PLAIN ${plain('ops', 'right')}`), /^235 /, 'allowed again once the window has passed');
      const logged = captured.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('AUTH failed'));
      assert.equal(logged.length, 2);
      for (const l of logged) assert.deepEqual([l.client, l.user, l.level], ['127.0.0.1', 'ops', 40]);
      assert.ok(!captured.text().includes('wrong-guess') && !captured.text().includes(plain('ops', 'wrong-guess')), 'a password in the log');
      await c.quit();
      await other.quit();
    } finally {
      await gw.stop();
    }
  });
});
