// SmtpClient.open leaves no socket behind when the session cannot open: a 554 greeting, a refused or missing
// STARTTLS under `starttls: 'required'`, a refused EHLO and HELO, a failed TLS handshake, a silent server.
// The fake servers never close first: only the client can end the connection, so an open socket is a leak.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { SmtpClient, SmtpClientError } from '../src/relay/index.ts';

interface FakeServer {
  readonly port: number;
  /** Server-side sockets the client has not closed yet. */
  open(): number;
  /** Commands the server received, in order. */
  readonly seen: string[];
  stop(): Promise<void>;
}

/** A server that answers each command line with `answer(line)` (undefined: nothing). */
async function fakeServer(greeting: string | undefined, answer: (line: string, s: net.Socket) => string | undefined): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const seen: string[] = [];
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    // The client closing its side counts as closed: the server would close at once on EOF.
    s.on('end', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        seen.push(line);
        const a = answer(line, s);
        if (a !== undefined) s.write(a);
      }
    });
    if (greeting !== undefined) s.write(greeting);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    open: () => sockets.size,
    seen,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function waitClosed(server: FakeServer, ms = 1500): Promise<void> {
  const until = Date.now() + ms;
  while (server.open() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

async function failsAndCloses(server: FakeServer, opts: Partial<Parameters<typeof SmtpClient.open>[0]>, expected: RegExp): Promise<void> {
  servers.push(server);
  const started = Date.now();
  await assert.rejects(
    SmtpClient.open({ host: '127.0.0.1', port: server.port, helo: 'bravo.base.example', timeouts: { greetingMs: 500, commandMs: 500 }, ...opts }),
    (err: unknown) => err instanceof SmtpClientError && expected.test(err.message),
  );
  await waitClosed(server);
  assert.equal(server.open(), 0, `the client left its socket open (server saw: ${server.seen.join(' | ')})`);
  assert.ok(Date.now() - started < 3000, 'the socket was not closed promptly');
}

const quit = (line: string) => (/^QUIT/i.test(line) ? '221 2.0.0 bye\r\n' : undefined);

test('a 554 greeting: QUIT, and the connection is closed by the client', async () => {
  const server = await fakeServer('554 5.3.2 not accepting mail\r\n', quit);
  await failsAndCloses(server, {}, /greeting 554/);
  assert.deepEqual(server.seen, ['QUIT'], 'RFC 5321 3.1: after a 554 greeting the client says QUIT');
});

test('STARTTLS refused with starttls required: the connection is closed by the client', async () => {
  const server = await fakeServer('220 mx ESMTP\r\n', (line) =>
    /^EHLO/i.test(line) ? '250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n' : /^STARTTLS/i.test(line) ? '454 4.7.0 TLS not available\r\n' : quit(line),
  );
  await failsAndCloses(server, { starttls: 'required' }, /STARTTLS refused: 454/);
});

test('no STARTTLS offered with starttls required: the connection is closed by the client', async () => {
  const server = await fakeServer('220 mx ESMTP\r\n', (line) => (/^EHLO/i.test(line) ? '250-mx\r\n250 PIPELINING\r\n' : quit(line)));
  await failsAndCloses(server, { starttls: 'required' }, /does not offer STARTTLS/);
});

test('EHLO and HELO refused: the connection is closed by the client', async () => {
  const server = await fakeServer('220 mx ESMTP\r\n', (line) => (/^(EHLO|HELO)/i.test(line) ? '550 5.7.1 go away\r\n' : quit(line)));
  await failsAndCloses(server, {}, /HELO refused: 550/);
});

test('a TLS handshake that fails: the connection is closed by the client', async () => {
  const server = await fakeServer('220 mx ESMTP\r\n', (line, s) => {
    if (/^EHLO/i.test(line)) return '250-mx\r\n250 STARTTLS\r\n';
    if (!/^STARTTLS/i.test(line)) return undefined;
    // The client's hello is answered with something that is not TLS.
    s.once('data', () => s.write('this is not TLS at all\r\n\r\n'));
    return '220 2.0.0 go ahead\r\n';
  });
  await failsAndCloses(server, { starttls: 'required', timeouts: { commandMs: 5000 } }, /^tls: /);
});

test('a TLS handshake that never completes: the connection is closed by the client after the command timeout', { timeout: 5000 }, async () => {
  const server = await fakeServer('220 mx ESMTP\r\n', (line) => (/^EHLO/i.test(line) ? '250-mx\r\n250 STARTTLS\r\n' : /^STARTTLS/i.test(line) ? '220 2.0.0 go ahead\r\n' : undefined));
  await failsAndCloses(server, { starttls: 'required', timeouts: { commandMs: 300 } }, /^tls: .*timed out/);
});

test('a server that never greets: the connection is closed by the client after the greeting timeout', async () => {
  const server = await fakeServer(undefined, () => undefined);
  await failsAndCloses(server, { timeouts: { greetingMs: 200 } }, /timeout during greeting/);
});
