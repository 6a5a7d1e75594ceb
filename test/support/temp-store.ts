import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { MessageStore } from '../../src/queue/index.ts';

/** A fresh data directory, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'hfmail-queue-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The queue in a fresh (or the given) directory, closed when the test ends. */
export function openStore(t: TestContext, dir = tempDir(t)): MessageStore {
  const store = MessageStore.open(dir);
  t.after(() => store.close());
  return store;
}
