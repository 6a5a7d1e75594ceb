/**
 * Child process for the crash-safety test: inserts deterministic messages into the store in argv[2] as
 * fast as it can and prints each id only after insert() has returned (i.e. after the commit was fsync'd).
 * The test SIGKILLs it mid-stream. It stops by itself after a while, in case its parent died first.
 */
import { MessageStore } from '../../src/queue/index.ts';
import { deterministicMessage } from './messages.ts';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: queue-writer.ts <data-dir>');

const store = MessageStore.open(dataDir);
const stopAt = Date.now() + 20_000;
for (let i = 0; Date.now() < stopAt; i++) {
  const msg = deterministicMessage(i);
  store.insert(msg);
  // Synchronous for pipes on Linux, so a printed id means the parent can rely on it.
  process.stdout.write(`${msg.id}\n`);
}
store.close();
