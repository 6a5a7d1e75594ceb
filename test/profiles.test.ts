// Firmware profiles: the shipped ones validate; a bad one is an error naming the file and the field; KISS setup
// bytes; `hfmail profiles` and `hfmail ports` (which must not crash where the system lacks udev).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { shippedProfiles } from '../src/gateway/index.ts';
import { kissSetup } from '../src/link/index.ts';
import { loadProfiles } from '../src/profiles/index.ts';
import { HFMAIL_BIN } from './support/gateway-process.ts';

const run = promisify(execFile);

test('the shipped profiles cover the families the issue names', () => {
  const p = shippedProfiles();
  assert.deepEqual([...p.keys()].sort(), ['cable-full-duplex', 'direwolf-afsk1200', 'direwolf-afsk1200-fx25', 'hf-packet-300', 'kiss-9600', 'stanag4539-2400', 'vara-hf-tcp']);
  assert.equal(p.get('stanag4539-2400')!.turnaroundMs >= 1000, true);
  assert.equal(p.get('vara-hf-tcp')!.arq, 'modem');
  assert.equal(p.get('direwolf-afsk1200')!.framing, 'kiss');
});

test('a bad profile names the file and the field', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-prof-'));
  try {
    writeFileSync(path.join(dir, 'bad.yaml'), 'name: bad\nframing: kiss\nonAirBitRate: -5\nduplex: sideways\nturnaroundMs: 0\nmaxFrameBytes: 256\nwindow: 8\nmaxOverS: 10\narq: hfmail\nserial: { baudRate: 9600 }\n');
    assert.throws(() => loadProfiles(dir), (e: Error) => {
      assert.match(e.message, /bad\.yaml: onAirBitRate: /);
      assert.match(e.message, /bad\.yaml: duplex: /);
      return true;
    });
    writeFileSync(path.join(dir, 'bad.yaml'), 'name: bad\nframing: kiss\nonAirBitRate: 1200\nduplex: half\nturnaroundMs: 0\nmaxFrameBytes: 256\nwindow: 8\nmaxOverS: 10\narq: hfmail\nserial: { baudRate: 9600 }\n');
    assert.throws(() => loadProfiles(dir), /bad\.yaml: kiss: KISS framing needs the kiss parameters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KISS setup: TXDELAY, persistence, slot time, TX tail and duplex as KISS commands', () => {
  const frames = kissSetup({ port: 1, txDelayMs: 300, persistence: 63, slotTimeMs: 100, txTailMs: 20, fullDuplex: false });
  assert.deepEqual(frames.map((f) => [...f]), [
    [0xc0, 0x11, 30, 0xc0],
    [0xc0, 0x12, 63, 0xc0],
    [0xc0, 0x13, 10, 0xc0],
    [0xc0, 0x14, 2, 0xc0],
    [0xc0, 0x15, 0, 0xc0],
  ]);
});

test('hfmail profiles --json and hfmail ports', async () => {
  const p = JSON.parse((await run(process.execPath, [HFMAIL_BIN, 'profiles', '--json'])).stdout) as { name: string }[];
  assert.equal(p.length, 7);
  const ports = JSON.parse((await run(process.execPath, [HFMAIL_BIN, 'ports', '--json'])).stdout) as { ports: { path: string }[] };
  assert.ok(Array.isArray(ports.ports));
});
