// `hfmail hold|release|requeue|delete` as an operator runs them (node bin/hfmail.js ... --data DIR): output, exit
// codes, `hfmail queue` showing why a message is held or corrupt, and a running gateway noticing the change.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Recipient } from '../src/core/index.ts';
import { MessageStore, QUEUE_DB_FILE } from '../src/queue/index.ts';
import { HFMAIL_BIN } from './support/gateway-process.ts';
import { startGateway } from './support/gateway.ts';
import { buildMessage, buildRecipient } from './support/messages.ts';

const run = promisify(execFile);

async function hfmail(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HFMAIL_BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const smtp = (address: string, over: Partial<Recipient> = {}): Recipient => buildRecipient({ address, route: { kind: 'smtp', target: '127.0.0.1:9' }, ...over });

interface Listed {
  id: string;
  problem?: string;
  recipients: { address: string; state: string; status?: { status: string; text: string }; held?: { by: string; reason: string }; corrupt?: { error: string } }[];
}

describe('hfmail hold, release, requeue, delete', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-cli-operator-'));
  const data = path.join(dir, 'data');
  const a = buildMessage({ receivedAt: Date.now(), recipients: [smtp('ops@example.net')] });
  const b = buildMessage({ receivedAt: Date.now(), recipients: [smtp('x@example.net'), smtp('y@example.org')] });
  const c = buildMessage({ receivedAt: Date.now(), recipients: [smtp('z@example.org')] });

  before(() => {
    const store = MessageStore.open(data);
    for (const m of [a, b, c]) store.insert(m);
    store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const queue = async (): Promise<Listed[]> => {
    const r = await hfmail('queue', '--data', data, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Listed[];
  };
  const stateOf = (list: Listed[], id: string) => list.find((m) => m.id === id)?.recipients.map((r) => r.state);

  test('each command has help that starts with its usage', async () => {
    const helps = await Promise.all(['hold', 'release', 'requeue', 'delete'].map((cmd) => hfmail(cmd, '--help')));
    for (const [i, cmd] of ['hold', 'release', 'requeue', 'delete'].entries()) {
      const h = helps[i]!;
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, new RegExp(`^Usage: hfmail ${cmd} \\[options\\] \\[id\\]`), h.stdout);
      assert.match(h.stdout, /--all/);
      assert.match(h.stdout, /--state <state>/);
      assert.match(h.stdout, /--domain <domain>/);
      assert.match(h.stdout, /--data <dir>/);
      assert.match(h.stdout, /--config <file>/);
    }
    assert.match(helps[0]!.stdout, /--reason <text>/);
    const top = await hfmail('--help');
    for (const cmd of ['hold', 'release', 'requeue', 'delete']) assert.match(top.stdout, new RegExp(`\\n  ${cmd} \\[options\\] \\[id\\]`));
  });

  test('hold ID with a reason: hfmail queue shows it held, and why', async () => {
    const r = await hfmail('hold', a.id, '--reason', 'check with the duty officer', '--data', data);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${a.id}: held <ops@example.net>\n`);

    const text = await hfmail('queue', '--data', data);
    assert.equal(text.code, 0, text.stderr);
    const line = text.stdout.split('\n').find((l) => l.startsWith(a.id))!;
    assert.match(line, /HELD by the operator: check with the duty officer$/);
    assert.match(text.stdout, /-> <ops@example\.net> held .*\[4\.0\.0 held by the operator: check with the duty officer\]/);

    const [m] = (await queue()).filter((x) => x.id === a.id);
    assert.deepEqual(m!.recipients[0]!.held, { by: 'operator', reason: 'check with the duty officer' });

    const again = await hfmail('hold', a.id, '--data', data);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, `${a.id}: nothing to hold (no queued recipients)\n`);
  });

  test('mistakes: an unknown id, no id, both an id and --all, a filter that cannot apply, no queue', async () => {
    const [unknown, none, both, wrongState, badState, filterWithoutAll, noQueue] = await Promise.all([
      hfmail('release', 'NO-SUCH-ID', '--data', data),
      hfmail('delete', '--data', data),
      hfmail('requeue', a.id, '--all', '--data', data),
      hfmail('hold', '--all', '--state', 'held', '--data', data),
      hfmail('release', '--all', '--state', 'sleeping', '--data', data),
      hfmail('hold', a.id, '--domain', 'example.net', '--data', data),
      hfmail('hold', a.id, '--data', path.join(dir, 'nowhere')),
    ]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `hfmail: no message NO-SUCH-ID in the queue at ${data}\n`);
    assert.equal(unknown.stdout, '');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^hfmail: give a message id, or --all/);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^hfmail: give a message id or --all, not both/);
    assert.equal(wrongState.code, 1);
    assert.match(wrongState.stderr, /^hfmail: hold applies to queued recipients, not held ones/);
    assert.equal(badState.code, 1);
    assert.match(badState.stderr, /^hfmail: --state must be one of queued, held, corrupt, not sleeping/);
    assert.equal(filterWithoutAll.code, 1);
    assert.match(filterWithoutAll.stderr, /--state and --domain go with --all/);
    assert.equal(noQueue.code, 1);
    assert.match(noQueue.stderr, /^hfmail: no queue in .*nowhere/);
    assert.equal(existsSync(path.join(dir, 'nowhere')), false, 'no queue is created by a mistyped folder');
  });

  test('--all with --domain holds recipient by recipient; --state held releases; requeue and delete --all', async () => {
    const held = await hfmail('hold', '--all', '--domain', 'example.org', '--reason', 'mx down', '--data', data);
    assert.equal(held.code, 0, held.stderr);
    assert.equal(held.stdout, `${b.id}: held <y@example.org>\n${c.id}: held <z@example.org>\n2 message(s) held\n`);
    let list = await queue();
    assert.deepEqual(stateOf(list, b.id), ['queued', 'held']);
    assert.deepEqual(stateOf(list, c.id), ['held']);
    assert.match((await hfmail('queue', '--data', data)).stdout, new RegExp(`${b.id}.*HELD \\(1 recipient\\(s\\)\\) by the operator: mx down`));

    // Deleting a domain leaves messages that also go elsewhere, and says so.
    const del = await hfmail('delete', '--all', '--domain', 'example.org', '--json', '--data', data);
    assert.equal(del.code, 0, del.stderr);
    const report = JSON.parse(del.stdout) as { removed: { id: string; recipients: { address: string; state: string }[] }[]; skipped: { id: string; why: string }[] };
    assert.deepEqual(report.removed.map((m) => [m.id, m.recipients]), [[c.id, [{ address: 'z@example.org', state: 'held' }]]]);
    assert.deepEqual(report.skipped.map((s) => s.id), [b.id]);
    assert.match(report.skipped[0]!.why, /x@example\.net/);

    const rel = await hfmail('release', '--all', '--state', 'held', '--data', data);
    assert.equal(rel.code, 0, rel.stderr);
    assert.match(rel.stdout, new RegExp(`${a.id}: released <ops@example.net>`));
    assert.match(rel.stdout, new RegExp(`${b.id}: released <y@example.org>`));
    assert.match(rel.stdout, /2 message\(s\) released\n$/);
    list = await queue();
    assert.deepEqual(list.map((m) => m.recipients.map((r) => r.state)).flat(), ['queued', 'queued', 'queued']);

    const rq = await hfmail('requeue', b.id, '--data', data);
    assert.equal(rq.code, 0, rq.stderr);
    assert.equal(rq.stdout, `${b.id}: requeued <x@example.net>, <y@example.org>\n`);

    const gone = await hfmail('delete', a.id, '--data', data);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, new RegExp(`^${a.id}: deleted \\(\\d+ B; <ops@example.net> queued\\)\\n$`));
    assert.deepEqual((await queue()).map((m) => m.id), [b.id]);
    const twice = await hfmail('delete', a.id, '--data', data);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /no message .* in the queue/);
  });

  test('a corrupt message: shown with its problem, quarantined by the first command, released only when it decodes, deleted', async () => {
    const bad = buildMessage({ receivedAt: Date.now(), recipients: [smtp('q@example.net')] });
    const store = MessageStore.open(data);
    store.insert(bad);
    store.close();
    const db = new Database(path.join(data, QUEUE_DB_FILE));
    const params = (db.prepare('SELECT params FROM messages WHERE id = ?').get(bad.id) as { params: string }).params;
    db.prepare('UPDATE messages SET params = ? WHERE id = ?').run('{broken', bad.id);

    // The listing does not fail on it; it names the problem.
    const text = await hfmail('queue', '--data', data);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${bad.id} .*CORRUPT: .*JSON`));

    const rel = await hfmail('release', bad.id, '--data', data);
    assert.equal(rel.code, 1);
    assert.match(rel.stderr, new RegExp(`^hfmail: message ${bad.id} still cannot be decoded .*; repair it or delete it\\n$`));
    // The command quarantined it on the way (it is the first to read it).
    const [m] = (await queue()).filter((x) => x.id === bad.id);
    assert.equal(m!.recipients[0]!.state, 'corrupt');
    assert.match(m!.recipients[0]!.corrupt!.error, /JSON/);
    assert.match((await hfmail('queue', '--data', data)).stdout, new RegExp(`-> <q@example\\.net> corrupt .*\\[4\\.3\\.0 quarantined`));

    db.prepare('UPDATE messages SET params = ? WHERE id = ?').run(params, bad.id);
    const ok = await hfmail('release', '--all', '--state', 'corrupt', '--data', data);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`${bad.id}: released <q@example.net>`));

    db.prepare('UPDATE messages SET params = ? WHERE id = ?').run('{broken', bad.id);
    const del = await hfmail('delete', '--all', '--state', 'corrupt', '--data', data);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, new RegExp(`${bad.id}: quarantined as corrupt: .*\\n${bad.id}: deleted`));
    db.close();
  });

  test('--config finds the data folder like hfmail queue does', async () => {
    const cfgDir = path.join(dir, 'station');
    mkdirSync(cfgDir);
    writeFileSync(path.join(cfgDir, 'station.yaml'), `station: alpha\ndata: ../data\nretention: { deliveredDays: 3 }\n`);
    const r = await hfmail('hold', b.id, '--config', path.join(cfgDir, 'station.yaml'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${b.id}: held <x@example.net>, <y@example.org>\n`);
    const bad = path.join(cfgDir, 'bad.yaml');
    writeFileSync(bad, `retention: { deliveredDays: -1 }\n`);
    const e = await hfmail('hold', b.id, '--config', bad);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /bad\.yaml: retention\.deliveredDays: /);
  });
});

test('a running gateway notices a release by the CLI and delivers the message', async (t) => {
  const gw = await startGateway({ routes: [{ domains: ['example.net'], via: 'maildir:./mail' }] });
  t.after(() => gw.stop());
  const data = path.join(gw.dir, 'data');
  const maildir = path.join(gw.dir, 'mail', 'new');
  const files = () => (existsSync(maildir) ? readdirSync(maildir) : []);

  // Another process puts a held message in the queue (as `hfmail hold` would leave it).
  const other = MessageStore.open(data);
  const m = buildMessage({
    receivedAt: Date.now(),
    recipients: [buildRecipient({ address: 'ops@example.net', route: { kind: 'maildir', target: path.join(gw.dir, 'mail') }, state: 'held', status: { status: '4.0.0', text: 'held by the operator', at: Date.now() } })],
  });
  other.insert(m);
  other.close();
  // A whole relay pass over what is due now, with the held message in the queue: it delivers nothing.
  await gw.gateway.relay.run();
  assert.deepEqual(files(), []);
  assert.equal(gw.gateway.store.get(m.id)!.recipients[0]!.state, 'held');

  const r = await hfmail('release', m.id, '--data', data);
  assert.equal(r.code, 0, r.stderr);
  const t0 = Date.now();
  while (files().length === 0 && Date.now() - t0 < 10_000) await sleep(100);
  assert.equal(files().length, 1, 'delivered after the release, without a restart');
  assert.equal(gw.gateway.store.get(m.id)!.recipients[0]!.state, 'delivered');
});
