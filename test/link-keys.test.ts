// Link keys: `hfmail keygen` writes a fresh 32-byte key readable by its owner only; a link may hold two keys
// during a change, and a station holding both talks to one holding either (each order, each role), the session
// running under the key that proved it; stations without a common key never come up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, readLinkKeys, writeLinkKey } from '../src/gateway/index.ts';
import { MemoryOutbound, MemoryProgressStore } from '../src/link/contracts.ts';
import { LinkStation, type LinkEvent } from '../src/link/link-station.ts';
import { HFMAIL_BIN } from './support/gateway-process.ts';
import { TestClock, testRandom, wire } from './support/mini-sim.ts';
import { tempDir } from './support/temp-store.ts';

const OLD = new TextEncoder().encode('the old key of alpha and bravo!!');
const NEW = new TextEncoder().encode('the new key of alpha and bravo!!');
const OTHER = new TextEncoder().encode('a key that nobody else holds....');

test('keygen: 32 random bytes, mode 0600, an existing key kept unless --force', (t) => {
  const dir = tempDir(t, 'hfmail-keys-');
  const file = path.join(dir, 'bravo.key');
  writeLinkKey(file);
  const a = fs.readFileSync(file);
  assert.equal(a.length, 32);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.throws(() => writeLinkKey(file), /exists/);
  assert.deepEqual(fs.readFileSync(file), a);
  writeLinkKey(file, true);
  assert.notDeepEqual(fs.readFileSync(file), a);
  assert.deepEqual(fs.readdirSync(dir), ['bravo.key'], 'no temporary file left');
  assert.equal(readLinkKeys(dir, ['bravo.key', 'bravo.key'], 'bravo').length, 2);
  fs.writeFileSync(path.join(dir, 'short.key'), 'short');
  assert.throws(() => readLinkKeys(dir, ['bravo.key', 'short.key'], 'bravo'), (err: unknown) => err instanceof ConfigError && /links\[\]\.key\[1\].*shorter than 16 bytes/.test(err.message));
});

test('hfmail keygen: --help names the command; --out writes the file', (t) => {
  const dir = tempDir(t, 'hfmail-keys-');
  const help = execFileSync(process.execPath, [HFMAIL_BIN, 'keygen', '--help'], { encoding: 'utf8', env: { ...process.env, HFMAIL_FROM_SOURCE: '1' } });
  assert.match(help, /Usage: hfmail keygen/);
  execFileSync(process.execPath, [HFMAIL_BIN, 'keygen', '--out', path.join(dir, 'k')], { env: { ...process.env, HFMAIL_FROM_SOURCE: '1' }, stdio: 'pipe' });
  assert.equal(fs.statSync(path.join(dir, 'k')).size, 32);
});

/** A caller and an answerer with the given keys; alpha sends one message. */
async function exchange(callerKeys: Uint8Array | Uint8Array[], answererKeys: Uint8Array | Uint8Array[], seed = 1) {
  const clock = new TestClock();
  const w = wire(clock, 9600, 200);
  const base = { duplex: 'half', bitRate: 9600, turnaroundMs: 200, maxFrame: 256, window: 32, maxOverMs: 5000 } as const;
  const events: { alpha: LinkEvent[]; bravo: LinkEvent[] } = { alpha: [], bravo: [] };
  const out = new MemoryOutbound();
  const got: string[] = [];
  const alpha = new LinkStation({ ...base, key: callerKeys, station: 'alpha', peer: 'bravo', role: 'caller' }, { clock, random: testRandom(seed), port: w.a, source: out, sink: { accept: async () => undefined }, progress: new MemoryProgressStore(), onEvent: (e) => events.alpha.push(e) });
  const bravo = new LinkStation(
    { ...base, key: answererKeys, station: 'bravo', peer: 'alpha', role: 'answerer' },
    { clock, random: testRandom(seed + 100), port: w.b, source: new MemoryOutbound(), sink: { accept: async (id) => void got.push(id) }, progress: new MemoryProgressStore(), onEvent: (e) => events.bravo.push(e) },
  );
  out.onAdd(() => alpha.notify());
  out.add({ id: 'm1', priority: 0, queuedAt: clock.now(), bundle: new Uint8Array(2000).fill(7) });
  alpha.start();
  bravo.start();
  await clock.run(clock.now() + 10 * 60_000);
  alpha.stop();
  bravo.stop();
  return { got, confirmed: out.confirmed, events };
}

test('key change: a station with both keys (either order, either role) talks to one with either; the message crosses once', async () => {
  const cases: [string, Uint8Array | Uint8Array[], Uint8Array | Uint8Array[]][] = [
    ['caller [old, new], answerer old', [OLD, NEW], OLD],
    ['caller [new, old], answerer old', [NEW, OLD], OLD],
    ['caller old, answerer [new, old]', OLD, [NEW, OLD]],
    ['caller new, answerer [old, new]', NEW, [OLD, NEW]],
    ['caller [new, old], answerer [old, new]', [NEW, OLD], [OLD, NEW]],
    ['caller new, answerer new (change done)', NEW, NEW],
  ];
  for (const [name, c, a] of cases) {
    const r = await exchange(c, a);
    assert.deepEqual(r.got, ['m1'], name);
    assert.deepEqual(r.confirmed, ['m1'], name);
  }
});

test('key change: without a key in common the link never comes up, and both sides say so', async () => {
  const r = await exchange([OLD, NEW], OTHER);
  assert.deepEqual(r.got, []);
  assert.ok(!r.events.alpha.some((e) => e.type === 'up') && !r.events.bravo.some((e) => e.type === 'up'));
  assert.ok(r.events.alpha.some((e) => e.type === 'auth-failed'), 'the caller reports the key');
});
