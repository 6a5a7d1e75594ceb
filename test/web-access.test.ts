// Who may use the web console: loopback only unless SMTP users exist, then HTTP Basic with their passwords;
// actions only from the console's own page; the JSON endpoints the page uses.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { ConfigError, hashPassword, validateConfig } from '../src/gateway/index.ts';
import { startGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

/** A request with exactly the headers given (fetch would not let a test set Host or Origin freely). */
function request(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('web: a non-loopback address without SMTP users is refused at config load; loopback and addresses with users are taken', async () => {
  for (const web of ['0.0.0.0:8025', '192.0.2.7:8025', '[::]:8025', 'console.example:8025']) {
    assert.throws(
      () => validateConfig({ web }, 'station.yaml'),
      (err: unknown) => err instanceof ConfigError && /^station\.yaml: web: .*not a loopback address.*users/.test((err as Error).message),
      web,
    );
  }
  for (const web of ['127.0.0.1:8025', '127.0.0.2:8025', '[::1]:8025', 'localhost:8025']) assert.equal(validateConfig({ web }).web, web);
  const hash = await hashPassword('secret', { N: 1024, r: 8, p: 1 });
  assert.equal(validateConfig({ web: '0.0.0.0:8025', users: [{ name: 'ops', hash }] }).web, '0.0.0.0:8025');
  assert.throws(() => validateConfig({ web: '127.0.0.1' }), /web: expected HOST:PORT/);
  assert.equal(validateConfig({}).web, undefined, 'off unless configured');
});

test('web: exposed, every request needs an SMTP user\'s password (HTTP Basic)', { timeout: 20_000 }, async () => {
  const hash = await hashPassword('radio-secret', { N: 1024, r: 8, p: 1 });
  const gw = await startGateway({ web: '0.0.0.0:0', users: [{ name: 'ops', hash }] });
  try {
    const port = gw.gateway.webAddress!.port;
    for (const path of ['/', '/api/state', '/metrics']) {
      const none = await request(port, 'GET', path);
      assert.equal(none.status, 401, path);
      assert.match(String(none.headers['www-authenticate']), /^Basic realm="hfmail alpha"/);
      assert.equal((await request(port, 'GET', path, basic('ops', 'wrong'))).status, 401);
      assert.equal((await request(port, 'GET', path, basic('nobody', 'radio-secret'))).status, 401);
      assert.equal((await request(port, 'GET', path, basic('ops', 'radio-secret'))).status, 200, path);
    }
    // A remembered password still needs the right one: another password for the same user is refused.
    assert.equal((await request(port, 'GET', '/api/state', basic('ops', 'radio-secret!'))).status, 401);
    // Exposed, any Host is fine (the password is the guard).
    assert.equal((await request(port, 'GET', '/api/links', { ...basic('ops', 'radio-secret'), Host: 'gateway.example:8025' })).status, 200);
  } finally {
    await gw.stop();
  }
});

test('web on loopback: actions need the console\'s header and its own origin; a foreign Host is refused; JSON endpoints', { timeout: 20_000 }, async () => {
  const gw = await startGateway({ web: '127.0.0.1:0', routes: [{ domains: ['*'], via: 'smtp://127.0.0.1:9' }] });
  try {
    const port = gw.gateway.webAddress!.port;
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    await c.cmd('MAIL FROM:<op@field.example> MT-PRIORITY=6 BY=7200;R');
    await c.cmd('RCPT TO:<ops@base.example>');
    const id = /queued as (\S+)/.exec(await c.data('Subject: access\r\n\r\nhello\r\n'))![1]!;
    await c.quit();
    const host = { Host: `127.0.0.1:${port}` };

    const page = await request(port, 'GET', '/', host);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal((await request(port, 'GET', '/console.js', host)).status, 200);
    // DNS rebinding: a page whose name now points at 127.0.0.1 still says its own name in Host.
    assert.equal((await request(port, 'GET', '/api/state', { Host: `evil.example:${port}` })).status, 421);

    const state = JSON.parse((await request(port, 'GET', '/api/state', host)).body) as { station: string; queue: { total: number; limit: number; entries: { id: string; by: { mode: string } | null; priority: { value: number } }[] } };
    assert.equal(state.station, 'alpha');
    assert.equal(state.queue.total, 1);
    assert.equal(state.queue.limit, 200);
    assert.equal(state.queue.entries[0]!.id, id);
    assert.equal(state.queue.entries[0]!.priority.value, 6);
    assert.equal(state.queue.entries[0]!.by!.mode, 'R');
    assert.equal(JSON.parse((await request(port, 'GET', '/api/queue?limit=0', host)).body).entries.length, 0);
    assert.equal((await request(port, 'GET', '/api/queue?limit=x', host)).status, 400);

    const hold = `/api/messages/${id}/hold`;
    const json = { ...host, 'Content-Type': 'application/json' };
    assert.equal((await request(port, 'POST', hold, json, '{}')).status, 403, 'no console header');
    assert.equal((await request(port, 'POST', hold, { ...json, 'X-Hfmail-Console': '1', Origin: 'http://evil.example' }, '{}')).status, 403, 'foreign origin');
    assert.equal((await request(port, 'POST', hold, { ...json, 'X-Hfmail-Console': '1', 'Sec-Fetch-Site': 'cross-site' }, '{}')).status, 403, 'cross-site');
    assert.equal((await request(port, 'GET', hold, host)).status, 405);
    let queue = JSON.parse((await request(port, 'GET', '/api/queue', host)).body) as { entries: { recipients: { state: string }[] }[] };
    assert.equal(queue.entries[0]!.recipients[0]!.state, 'queued', 'nothing refused changed anything');

    const ok = await request(port, 'POST', hold, { ...json, 'X-Hfmail-Console': '1', Origin: `http://127.0.0.1:${port}` }, '{"reason":"waiting for the net"}');
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(JSON.parse(ok.body).changed, [{ id, recipients: ['ops@base.example'] }]);
    queue = JSON.parse((await request(port, 'GET', '/api/queue', host)).body);
    assert.deepEqual(queue.entries[0]!.recipients[0], { ...queue.entries[0]!.recipients[0], state: 'held', held: { by: 'operator', reason: 'waiting for the net' } });
    assert.equal((await request(port, 'POST', '/api/messages/NOSUCHID/release', { ...json, 'X-Hfmail-Console': '1' }, '{}')).status, 404);
    const del = await request(port, 'POST', `/api/messages/${id}/delete`, { ...json, 'X-Hfmail-Console': '1' }, '');
    assert.equal(del.status, 200, del.body);
    assert.equal(JSON.parse((await request(port, 'GET', '/api/queue', host)).body).total, 0);
    assert.equal((await request(port, 'GET', '/nowhere', host)).status, 404);
  } finally {
    await gw.stop();
  }
});

test('web: a port in use is one clear sentence naming web:', { timeout: 20_000 }, async () => {
  const blocker = http.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(startGateway({ web: `127.0.0.1:${port}` }), new RegExp(`^Error: cannot serve the web console on 127\\.0\\.0\\.1:${port}: the port is in use; choose another with web:$`));
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
