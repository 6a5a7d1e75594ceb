// The airtime model of a KISS TNC (HDLC framing, TXDELAY per key-up, TXTAIL, FX.25 blocks), frame sizes that
// fit the FEC block, and the link endpoint in the station file (tcp://, serial, `tnc: keep`, profiles added by name).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DATA_OVERHEAD } from '../src/codec/link-frame.ts';
import { parseTcpPort } from '../src/gateway/config-schema.ts';
import { validateConfig } from '../src/gateway/config.ts';
import { linkAirOptions, stationProfiles } from '../src/gateway/link-profiles.ts';
import { AirTime, frameAirBytes, frameSizesFor, fx25Block, largestProtectedFrame } from '../src/link/air-time.ts';
import { bestFrameSize } from '../src/link/loss-estimator.ts';

const hdlc = { framing: 'hdlc', tailMs: 100 } as const;
const fx25 = { framing: 'hdlc', fx25: 16, tailMs: 100 } as const;

test('HDLC on the air: flags, CRC-16 and bit stuffing around the payload, not the KISS bytes', () => {
  // 200 bytes: (200 + 2 FCS) * (1 + 1/62) + 2 flags = 207.3 bytes, which Direwolf sends in 1.38 s at 1200 bd.
  assert.ok(Math.abs(frameAirBytes(hdlc, 200, 260) - 207.26) < 0.01);
  assert.equal(frameAirBytes(undefined, 200, 260), 260, 'a raw modem sends the bytes written');
  assert.equal(frameAirBytes({ framing: 'bytes' }, 200, 203), 203);
});

test('FX.25: the smallest Reed-Solomon block that holds the stuffed frame, tag and check bytes included', () => {
  assert.equal(fx25Block(20, 16), 32);
  assert.equal(fx25Block(100, 16), 128);
  assert.equal(fx25Block(150, 16), 239);
  assert.equal(fx25Block(240, 16), undefined, 'too big for a block');
  assert.equal(frameAirBytes(fx25, 150), 8 + 239 + 16); // the 150-byte frame: 263 bytes on the air
  assert.equal(frameAirBytes(fx25, 100), 8 + 128 + 16);
  assert.ok(Math.abs(frameAirBytes(fx25, 300) - frameAirBytes(hdlc, 300)) < 1e-9, 'too big: plain HDLC, unprotected');
  const largest = largestProtectedFrame(fx25)!;
  assert.equal(fx25Block(largest, 16), 239);
  assert.equal(fx25Block(largest + 1, 16), undefined);
  assert.equal(largestProtectedFrame(hdlc), undefined);
});

test('frame sizes: with FX.25 only sizes that fill a block, never one that misses the largest; otherwise the grid and the limit itself', () => {
  const sizes = frameSizesFor(fx25)(256);
  for (const s of sizes) assert.notEqual(fx25Block(s + DATA_OVERHEAD, 16), undefined, `${s} does not fit a block`);
  assert.equal(fx25Block(sizes[sizes.length - 1]! + DATA_OVERHEAD + 1, 16), undefined, 'the largest fills the 239-byte block');
  assert.deepEqual(frameSizesFor(fx25)(100), [40, 100]);
  assert.deepEqual(frameSizesFor(hdlc)(200), [32, 64, 128, 200]);
  // At no loss the largest that fits; the shipped FX.25 profile's frames fit the block.
  assert.equal(bestFrameSize(0, 256, frameSizesFor(fx25)), sizes[sizes.length - 1]);
  const shipped = stationProfiles(undefined, '.');
  const { maxFrame, air } = linkAirOptions(shipped.get('direwolf-afsk1200-fx25')!);
  assert.equal(air.fx25, 16);
  assert.notEqual(fx25Block(maxFrame + DATA_OVERHEAD, 16), undefined);
  assert.equal(linkAirOptions(shipped.get('direwolf-afsk1200')!).maxFrame, 512, 'no FEC: the profile says 512, 512 it is');
});

test('a TNC keys up again when its queue ran dry mid-over (TXDELAY anew), and the channel is clear only after TXTAIL', () => {
  const o = { bitRate: 1200, maxFrame: 256, duplex: 'half', turnaroundMs: 400, air: hdlc } as const;
  const air = new AirTime(o);
  air.keyUp(0);
  assert.equal(air.freeAt, 400);
  air.wrote(0, 210, 200); // 207.26 bytes at 150 B/s
  const first = 400 + (207.26 / 150) * 1000;
  assert.ok(Math.abs(air.freeAt - first) < 1);
  air.wrote(first + 500, 210, 200); // written after the TNC had finished: tail, then a new key-up
  assert.ok(Math.abs(air.freeAt - (first + 500 + 100 + 400 + (207.26 / 150) * 1000)) < 1);
  assert.equal(air.clearAt(), air.freeAt + 100);
  // The peer's frames may be a key-up apart when its TNC ran dry, or two frames lost to noise (a TNC drops them whole).
  assert.ok(Math.abs(air.peerGapMs() - (3 * air.maxFrameMs() + 500)) < 1e-9);
  // A raw modem (no framing given) keeps the old model: no new key-up, no tail.
  const raw = new AirTime({ ...o, air: undefined });
  raw.keyUp(0);
  raw.wrote(5000, 150);
  assert.equal(raw.freeAt, 6000);
  assert.equal(raw.clearAt(), 6000);
  assert.equal(raw.peerGapMs(), raw.maxFrameMs(), 'a raw modem hands on damaged bytes too: a frame apart at most');
});

test('the answer wait counts what is still on the air and the TXTAIL, and the largest frame with its FX.25 block', () => {
  const o = { bitRate: 1200, maxFrame: 210, duplex: 'half', turnaroundMs: 400, latencyMs: 200, air: fx25 } as const;
  const air = new AirTime(o);
  const block = ((8 + 239 + 16) * 8 * 1000) / 1200;
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  near(air.maxFrameMs(), block); // a full FX.25 block
  air.keyUp(0);
  air.wrote(0, 230, 228);
  near(air.freeAt, 400 + block);
  near(air.answerWaitMs(0), air.freeAt + 100 + (400 + 400) + air.peerGapMs() + 1000);
  assert.ok(air.answerWaitMs(air.clearAt()) > air.peerGapMs() + 500, "longer than the peer's quiet after our last frame");
});

test('links[].port: a serial device or tcp://HOST:PORT; tnc: keep; the old profile tcp: is refused with the way to say it', () => {
  assert.deepEqual(parseTcpPort('tcp://127.0.0.1:8001'), { host: '127.0.0.1', port: 8001 });
  assert.deepEqual(parseTcpPort('tcp://[::1]:8001'), { host: '::1', port: 8001 });
  assert.equal(parseTcpPort('/dev/ttyUSB0'), undefined);
  const link = (port: string, extra = {}) => validateConfig({ links: [{ peer: 'bravo', port, profile: 'direwolf-afsk1200', key: 'k', ...extra }] }).links[0]!;
  assert.equal(link('tcp://127.0.0.1:8001').tnc, 'setup');
  assert.equal(link('/dev/ttyUSB0', { tnc: 'keep' }).tnc, 'keep');
  assert.throws(() => link('tcp://127.0.0.1'), /links\.0\.port: expected a serial device such as \/dev\/ttyUSB0, or tcp:\/\/HOST:PORT/);
  assert.throws(() => link('tcp://127.0.0.1:99999'), /links\.0\.port/);
  assert.throws(() => link('/dev/ttyUSB0', { tnc: 'maybe' }), /links\.0\.tnc/);
});

test('profiles: a station folder adds profiles and replaces shipped ones by name; a profile with tcp: says where the address goes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-prof-'));
  try {
    const body = 'framing: kiss\nkiss: { txDelayMs: 500, persistence: 63, slotTimeMs: 100 }\nonAirBitRate: 1200\nduplex: half\nturnaroundMs: 600\nmaxFrameBytes: 200\nwindow: 8\nmaxOverS: 10\narq: hfmail\nserial: { baudRate: 19200 }\n';
    writeFileSync(path.join(dir, 'direwolf-afsk1200.yaml'), `name: direwolf-afsk1200\n${body}`);
    writeFileSync(path.join(dir, 'my-tnc.yaml'), `name: my-tnc\n${body}`);
    const p = stationProfiles(dir, '/');
    assert.equal(p.get('direwolf-afsk1200')!.turnaroundMs, 600, 'replaced by name');
    assert.equal(p.get('my-tnc')!.maxFrameBytes, 200, 'added');
    assert.ok(p.has('kiss-9600') && p.has('direwolf-afsk1200-fx25'), 'the other shipped profiles stay');
    writeFileSync(path.join(dir, 'my-tnc.yaml'), `name: my-tnc\ntcp: { host: 127.0.0.1, port: 8001 }\n${body}`);
    assert.throws(() => stationProfiles(dir, '/'), /my-tnc\.yaml: tcp: the modem's address goes in the station's links\[\]\.port as tcp:\/\/HOST:PORT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
