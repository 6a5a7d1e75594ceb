// Far-side delivery by priority with bounded sessions: a dead smarthost holds at most its share of sessions,
// and a FLASH message that arrives meanwhile goes out at once, ahead of everything waiting.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { systemClock, type Route } from '../src/core/index.ts';
import { MessageStore } from '../src/queue/index.ts';
import { RelayRunner } from '../src/relay/index.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';

let dir: string;
let store: MessageStore;
let dead: net.Server;
let deadPort: number;
const held = new Set<net.Socket>();
let seq = 0;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-relay-pool-'));
  store = MessageStore.open(dir);
  dead = net.createServer((s) => void held.add(s)); // accepts, never greets: each session waits its timeout
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadPort = (dead.address() as net.AddressInfo).port;
});
after(() => {
  for (const s of held) s.destroy();
  dead.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('200 routine messages for a dead smarthost hold 2 of 8 sessions; a FLASH message for a Maildir arriving meanwhile is delivered while they wait', async () => {
  const maildir = path.join(dir, 'mail');
  const routes: Record<string, Route> = { 'example.net': { kind: 'smtp', target: `127.0.0.1:${deadPort}` }, 'base.example': { kind: 'maildir', target: maildir } };
  const relay = new RelayRunner(
    store.deliveryView(),
    {
      hostname: 'bravo.base.example',
      retry: { baseMs: 60_000, maxMs: 3_600_000, giveUpMs: 86_400_000, altRecipWindowMs: 1_800_000 },
      connectTimeoutMs: 20_000,
      commandTimeoutMs: 20_000,
      starttls: 'off',
      dns: { servers: [], timeoutMs: 500 },
      sessions: { max: 8, perDestination: 2 },
      route: (a) => routes[a.slice(a.indexOf('@') + 1)] ?? null,
      newId: () => `01POOL${String(seq++).padStart(14, '0')}`,
    },
    systemClock,
    pino({ level: 'silent' }),
  );
  const now = Date.now();
  for (let i = 0; i < 200; i++)
    store.insert(buildMessage({ id: `01ROUTINE${String(i).padStart(11, '0')}`, receivedAt: now, priority: { value: -2, source: 'mt-priority', requested: -2 }, recipients: [buildRecipient({ address: `r${i}@example.net`, route: routes['example.net']! })] }));
  relay.start();
  // The dead host has taken its two sessions (and only those).
  for (let i = 0; i < 100 && held.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(held.size, 2, 'sessions opened to the dead smarthost');
  store.insert(buildMessage({ id: '01FLASH0000000000000', receivedAt: Date.now(), priority: { value: 6, source: 'mt-priority', requested: 6 }, recipients: [buildRecipient({ address: 'ops@base.example', route: routes['base.example']! })] }));
  relay.kick();
  const newDir = path.join(maildir, 'new');
  for (let i = 0; i < 250 && !(existsSync(newDir) && readdirSync(newDir).length > 0); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(existsSync(newDir) ? readdirSync(newDir).length : 0, 1, 'the FLASH message is in the Maildir');
  assert.equal(store.get('01FLASH0000000000000')!.recipients[0]!.state, 'delivered');
  // ... while the routine ones are all still waiting (none has an outcome yet), and no more sessions went to the dead host.
  assert.equal(held.size, 2);
  assert.ok(relay.busy, 'the dead-host sessions are still waiting');
  assert.equal(store.delivery.due(Date.now()).filter((d) => d.attempts > 0).length, 0);
  for (const s of held) s.destroy(); // the dead host hangs up: those attempts end, and stop() returns
  await relay.stop();
});
