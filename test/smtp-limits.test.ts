// Connection caps (421 4.7.0), the DATA memory cap and the free-space floor (452 4.3.1), full-disk replies at
// DATA, and client disconnects logged without stack traces.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { VirtualClock } from '../sim/virtual-clock.ts';
import { QueueError } from '../src/queue/index.ts';
import { ConnectionLimits } from '../src/smtp/connection-limits.ts';
import { FrontDoor } from '../src/smtp/front-door.ts';
import { MemoryBudget } from '../src/smtp/memory-budget.ts';
import { storageRefusal } from '../src/smtp/replies.ts';
import { captureLog } from './support/log-capture.ts';
import { startGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

/** Polls a condition that real I/O makes true; never used to prove absence. */
async function until(what: string, cond: () => boolean, realMs = 10_000): Promise<void> {
  const end = Date.now() + realMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${realMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Connects and returns what the server says first, and whether it then closed the connection. */
function firstWords(port: number): Promise<{ text: string; closed: boolean; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
      if (/^220 /m.test(text)) resolve({ text, closed: false, socket });
    });
    socket.on('close', () => resolve({ text, closed: true, socket }));
    socket.on('error', reject);
  });
}

const message = (bytes: number) => `Subject: t\r\n\r\n${('x'.repeat(98) + '\r\n').repeat(Math.ceil(bytes / 100))}`;

describe('connection limits', () => {
  test('per client: the connection over limits.maxConnectionsPerClient gets 421 4.7.0 and is closed; a freed slot is reused', async () => {
    const captured = captureLog('info');
    const gw = await startGateway({ limits: { maxConnectionsPerClient: 2 } }, { log: captured.log });
    try {
      const a = await RawSmtp.connect(gw.port);
      const b = await RawSmtp.connect(gw.port);
      const refused = await firstWords(gw.port);
      assert.equal(refused.text, '421 4.7.0 Too many connections from your address; try again later\r\n');
      assert.equal(refused.closed, true);
      const lines = captured.lines.filter((l) => l.msg === 'connection refused: too many connections from this client');
      assert.equal(lines.length, 1);
      assert.deepEqual([lines[0]!.client, lines[0]!.limit, lines[0]!.level], ['127.0.0.1', 2, 40]);
      await a.quit();
      await until('the slot is given back', () => gw.gateway.smtp.door.connections.size === 1);
      const again = await firstWords(gw.port);
      assert.match(again.text, /^220 /);
      again.socket.destroy();
      await b.quit();
    } finally {
      await gw.stop();
    }
  });

  test('in total: limits.maxConnections', async () => {
    const gw = await startGateway({ limits: { maxConnections: 3, maxConnectionsPerClient: 10 } });
    try {
      const open = await Promise.all([1, 2, 3].map(() => RawSmtp.connect(gw.port)));
      const refused = await firstWords(gw.port);
      assert.equal(refused.text, '421 4.7.0 Too many connections; try again later\r\n');
      assert.equal(refused.closed, true);
      for (const c of open) await c.quit();
    } finally {
      await gw.stop();
    }
  });

  test('a flood of refusals is logged 5 lines per 10 s, the next line counting the ones not logged', async () => {
    const clock = new VirtualClock();
    const { log, lines } = captureLog();
    const limits = new ConnectionLimits({ total: 2, perClient: 1 }, clock, log);
    assert.equal(limits.acquire('192.0.2.1'), 'ok');
    for (let i = 0; i < 20; i++) assert.equal(limits.acquire('192.0.2.1'), 'client');
    assert.equal(limits.acquire('192.0.2.2'), 'ok');
    assert.equal(limits.acquire('192.0.2.3'), 'total');
    assert.equal(lines.length, 5);
    await clock.runUntil(clock.now() + 10_000);
    assert.equal(limits.acquire('192.0.2.4'), 'total');
    assert.equal(lines.length, 6);
    assert.equal(lines[5]!.notLogged, 16);
    limits.release('192.0.2.1');
    limits.release('192.0.2.1'); // a second release of the same slot changes nothing
    assert.equal(limits.size, 1);
    assert.equal(limits.acquire('192.0.2.3'), 'ok');
  });
});

describe('DATA held in memory', () => {
  test('MemoryBudget: takes until the cap, release gives back everything a holder took', () => {
    const budget = new MemoryBudget(100);
    const a = budget.holder();
    const b = budget.holder();
    assert.ok(a.take(60));
    assert.ok(!b.take(41));
    assert.ok(b.take(40));
    assert.equal(budget.inUse, 100);
    a.release();
    a.release();
    assert.equal(budget.inUse, 40);
    b.release();
    assert.equal(budget.inUse, 0);
  });

  test('a message that would pass limits.maxDataBytesInMemory gets 452 4.3.1, nothing is stored, the budget is whole again', async () => {
    const gw = await startGateway({ limits: { maxDataBytesInMemory: 64 * 1024 } });
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<a@field.example>');
      await c.cmd('RCPT TO:<b@base.example>');
      assert.match(await c.data(message(200 * 1024)), /^452 4\.3\.1 /);
      assert.equal(gw.gateway.store.count(), 0);
      assert.equal(gw.gateway.smtp.door.budget.inUse, 0);
      await c.cmd('MAIL FROM:<a@field.example>');
      await c.cmd('RCPT TO:<b@base.example>');
      assert.match(await c.data(message(32 * 1024)), /^250 2\.6\.0 /);
      assert.equal(gw.gateway.store.count(), 1);
      assert.equal(gw.gateway.smtp.door.budget.inUse, 0);
      await c.quit();
    } finally {
      await gw.stop();
    }
  });
});

describe('storage', () => {
  test('below queue.minFreeBytes, MAIL gets 452 4.3.1', async () => {
    const gw = await startGateway({ queue: { minFreeBytes: 2 ** 52 } });
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      assert.equal(await c.cmd('MAIL FROM:<a@field.example>'), '452 4.3.1 Insufficient system storage; try again later');
      await c.quit();
    } finally {
      await gw.stop();
    }
  });

  test('free space is read at most every 5 s of the clock, and a change of state is logged once', async () => {
    const clock = new VirtualClock();
    const { log, lines } = captureLog();
    let free = 10;
    let reads = 0;
    const door = new FrontDoor(
      { auth: { allowPlaintextOnLoopback: false, maxFailures: 1, failureWindowMs: 1, maxDelayMs: 1 }, authEnabled: false, connections: { total: 1, perClient: 1 }, maxDataBytesInMemory: 1, storage: { minFreeBytes: 5, freeBytes: () => (reads++, free) } },
      clock,
      log,
    );
    assert.equal(door.storageRefusal(), null);
    free = 1;
    assert.equal(door.storageRefusal(), null, 'within 5 s the last reading stands');
    assert.equal(reads, 1);
    await clock.runUntil(clock.now() + 5000);
    assert.deepEqual(door.storageRefusal(), { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage; try again later' });
    assert.equal(door.storageRefusal()?.code, 452);
    assert.equal(reads, 2);
    free = 100;
    await clock.runUntil(clock.now() + 5000);
    assert.equal(door.storageRefusal(), null);
    assert.deepEqual(lines.map((l) => l.msg), ['free space below the floor: refusing new mail with 452 4.3.1', 'free space above the floor again: accepting mail']);
  });

  test('a store failure at DATA: a full disk is 452 4.3.1, any other 451 4.3.0 (one table, replies.ts)', () => {
    const full = { code: 452, enhanced: '4.3.1', text: 'Insufficient system storage; try again later' };
    const other = { code: 451, enhanced: '4.3.0', text: 'Could not store the message; try again later' };
    assert.deepEqual(storageRefusal(new QueueError('disk-full', 'full')), full);
    assert.deepEqual(storageRefusal(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })), full);
    assert.deepEqual(storageRefusal(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ENOSPC' }) })), full);
    assert.deepEqual(storageRefusal(new QueueError('storage-io', 'io')), other);
    assert.deepEqual(storageRefusal(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })), other);
    assert.deepEqual(storageRefusal(new Error('a bug')), other);
  });

  test('over SMTP: an insert that finds the disk full answers 452 4.3.1', async (t) => {
    const gw = await startGateway();
    try {
      const store = gw.gateway.store;
      t.mock.method(store, 'insert', () => {
        throw new QueueError('disk-full', "the queue's disk is full");
      });
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<a@field.example>');
      await c.cmd('RCPT TO:<b@base.example>');
      assert.equal(await c.data(message(100)), '452 4.3.1 Insufficient system storage; try again later');
      await c.quit();
    } finally {
      await gw.stop();
    }
  });
});

describe('client disconnects', () => {
  test('a reset mid-session is one info/debug line without a stack, never a warning or an error', async () => {
    const captured = captureLog('debug');
    const gw = await startGateway({}, { log: captured.log });
    try {
      for (const stage of ['MAIL', 'DATA'] as const) {
        const socket = net.connect(gw.port, '127.0.0.1');
        socket.on('error', () => undefined);
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (text += d));
        await until('greeting', () => text.includes('220 '));
        socket.write('EHLO reset.example\r\nMAIL FROM:<a@field.example>\r\nRCPT TO:<b@base.example>\r\n' + (stage === 'DATA' ? 'DATA\r\n' : ''));
        await until('replies', () => (stage === 'DATA' ? text.includes('354 ') : /250 2\.1\.5/.test(text)));
        if (stage === 'DATA') socket.write('Subject: half\r\n\r\nhalf a mess');
        const before = gw.gateway.smtp.door.connections.size;
        socket.resetAndDestroy();
        await until('the server notices', () => gw.gateway.smtp.door.connections.size === before - 1);
      }
      const loud = captured.lines.filter((l) => (l.level as number) >= 40);
      assert.deepEqual(loud, [], 'a disconnect was logged as a warning or error');
      assert.ok(!captured.text().includes('"stack"'), 'a stack trace in the log');
      assert.equal(gw.gateway.store.count(), 0);
    } finally {
      await gw.stop();
    }
  });
});
