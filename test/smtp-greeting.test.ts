import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway } from './support/gateway.ts';

/** Connects and sends EHLO at once, without waiting for the greeting; returns the first two replies' lines. */
function talkFirst(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('connect', () => socket.write('EHLO early.example\r\n'));
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const lines = text.split('\r\n').filter(Boolean);
      // The greeting, then either a 421 or the EHLO reply's last line ("250 " after any "250-" lines).
      if (lines.length >= 2 && lines.slice(1).some((l) => /^\d{3} /.test(l))) {
        socket.destroy();
        resolve(lines);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text.split('\r\n').filter(Boolean)));
  });
}

test('a trusted client is greeted at once: EHLO sent before the greeting is answered normally', async () => {
  const gw = await startGateway({ trusted: ['127.0.0.0/8'], earlyTalkerPauseMs: 100 });
  try {
    const lines = await talkFirst(gw.port);
    assert.match(lines[0]!, /^220 /);
    assert.ok(lines.some((l) => /^250 /.test(l)), `EHLO not accepted: ${lines.join(' | ')}`);
  } finally {
    await gw.stop();
  }
});

test('an untrusted client that talks before the greeting gets 421 (early-talker pause kept for strangers)', async () => {
  const gw = await startGateway({ trusted: [], earlyTalkerPauseMs: 100 });
  try {
    const lines = await talkFirst(gw.port);
    assert.ok(lines.some((l) => /^421 .*too soon/i.test(l)), `no 421 for an early talker: ${lines.join(' | ')}`);
  } finally {
    await gw.stop();
  }
});

test('earlyTalkerPauseMs: 0 greets untrusted clients at once too', async () => {
  const gw = await startGateway({ trusted: [], earlyTalkerPauseMs: 0 });
  try {
    const lines = await talkFirst(gw.port);
    assert.ok(lines.some((l) => /^250 /.test(l)), `EHLO not accepted: ${lines.join(' | ')}`);
  } finally {
    await gw.stop();
  }
});
