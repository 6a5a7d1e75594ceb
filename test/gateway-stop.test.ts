// Gateway.stop releases its link ports: the ones it was given and the serial devices it opened itself, so a
// restarted gateway (or another program) can open the device again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { openSerialLinkPort, type LinkPort } from '../src/link/index.ts';
import { ptyPair } from './support/pty-pair.ts';

const log = pino({ level: 'silent' });

function station(dir: string, port: string, profile: string) {
  writeFileSync(path.join(dir, 'k.key'), 'a shared key of at least 16 bytes');
  return validateConfig({ station: 'alpha', listen: '127.0.0.1:0', data: './data', routes: [{ domains: ['*'], via: 'link:bravo' }], links: [{ peer: 'bravo', port, profile, key: './k.key' }] });
}

test('a given link port is closed when the gateway stops', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-stop-'));
  let closes = 0;
  const closeListeners: ((err?: Error) => void)[] = [];
  const port: LinkPort = {
    write: () => undefined,
    onData: () => undefined,
    onClose: (l) => void closeListeners.push(l),
    close: async () => {
      closes++;
      for (const l of closeListeners.splice(0)) l();
    },
  };
  const gw = new Gateway({ config: station(dir, 'radio', 'stanag4539-2400'), log, baseDir: dir, linkPorts: { bravo: port } });
  try {
    await gw.start();
    assert.equal(closes, 0);
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(closes, 1, 'the link port was left open');
});

test('a serial device the gateway opened is released when it stops (it can be opened again, exclusively)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-stop-'));
  const pty = await ptyPair();
  const gw = new Gateway({ config: station(dir, pty.a, 'kiss-9600'), log, baseDir: dir });
  try {
    await gw.start();
    assert.ok(gw.links.get('bravo'), 'the link did not open on the pty');
    // serialport locks the device (TIOCEXCL): while the gateway holds it, nobody else may open it.
    await assert.rejects(openSerialLinkPort({ path: pty.a, baudRate: 9600 }), /cannot open serial port/);
    await gw.stop();
    const again = await openSerialLinkPort({ path: pty.a, baudRate: 9600 });
    await again.close();
  } finally {
    await gw.stop().catch(() => undefined);
    pty.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
