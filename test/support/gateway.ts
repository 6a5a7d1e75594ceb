import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Clock } from '../../src/core/index.ts';
import { Gateway, validateConfig } from '../../src/gateway/index.ts';

export interface TestGateway {
  gateway: Gateway;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A gateway on an ephemeral loopback port with its own data folder; `overrides` is station YAML as an object.
 * `clock` (e.g. a VirtualClock) and `log` replace the real clock and the silent logger.
 */
export async function startGateway(overrides: Record<string, unknown> = {}, opts: { clock?: Clock; log?: pino.Logger } = {}): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-test-'));
  const config = validateConfig({ listen: '127.0.0.1:0', data: path.join(dir, 'data'), ...overrides }, 'test');
  const log = opts.log ?? pino({ level: process.env.HFMAIL_TEST_LOG ?? 'silent' });
  const gateway = new Gateway({ config, log, baseDir: dir, ...(opts.clock ? { clock: opts.clock } : {}) });
  const { port } = await gateway.start();
  return {
    gateway,
    port,
    dir,
    async stop() {
      await gateway.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
