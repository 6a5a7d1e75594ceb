// `hfmail status --data DIR` names the station that runs on DIR (from the status file it writes), not the
// built-in default: bravo's data folder says "station bravo".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import { Gateway, statusReport, validateConfig } from '../src/gateway/index.ts';
import { MessageStore } from '../src/queue/index.ts';
import { HFMAIL_BIN } from './support/gateway-process.ts';

const run = promisify(execFile);

test('status with only --data takes the station from the running gateway\'s status file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-status-'));
  const gw = new Gateway({ config: validateConfig({ station: 'bravo', listen: '127.0.0.1:0', data: './bravo-data' }), log: pino({ level: 'silent' }), baseDir: dir });
  try {
    await gw.start(); // writes status.json with station "bravo"
    const data = path.join(dir, 'bravo-data');
    // From a folder with no station.yaml: the config is the built-in one (station alpha).
    const { stdout } = await run(process.execPath, [HFMAIL_BIN, 'status', '--data', data], { cwd: dir, timeout: 30_000 });
    assert.match(stdout, /^station bravo: running \(pid \d+\)/, stdout);
    const json = JSON.parse((await run(process.execPath, [HFMAIL_BIN, 'status', '--data', data, '--json'], { cwd: dir, timeout: 30_000 })).stdout) as { station: string };
    assert.equal(json.station, 'bravo');
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a status file (the gateway never ran there) the station comes from the config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-status-'));
  try {
    MessageStore.open(path.join(dir, 'data')).close();
    assert.equal(statusReport({ config: validateConfig({ station: 'charlie', data: './data' }), baseDir: dir }).station, 'charlie');
    // An older status file without a station: still the config's.
    writeFileSync(path.join(dir, 'data', 'status.json'), JSON.stringify({ pid: 1, updatedAt: new Date(0).toISOString(), links: [] }));
    assert.equal(statusReport({ config: validateConfig({ station: 'charlie', data: './data' }), baseDir: dir }).station, 'charlie');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
