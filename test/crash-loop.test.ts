// Crash safety across the radio: a seeded loop SIGKILLs alpha or bravo at random moments of a multi-message
// transfer (mid-frame, between custody and delivery, ...), restarts it, and every message still arrives
// exactly once, byte for byte; what goes on the air again after each restart is counted from alpha's
// segment log and stays well under a message.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SeededRandom } from '../sim/seeded-random.ts';
import { RawSmtp } from './support/smtp-client.ts';
import { SHORT_OVERS_PROFILE, stationPair } from './support/station-pair.ts';

let pair: Awaited<ReturnType<typeof stationPair>> | undefined;
after(() => pair?.close());

interface Segment {
  readonly time: number;
  readonly id: string;
  readonly offset: number;
  readonly bytes: number;
}

/**
 * For each restart, the bytes sent again once the link was back up (until the next kill) that had been on the
 * air before that kill. What went out while the peer was down (to nobody) is the outage's cost, not the restart's.
 */
function resentAfterRestarts(segments: readonly Segment[], restarts: readonly { killAt: number; upAt: number }[]): number[] {
  const sorted = [...segments].sort((a, b) => a.time - b.time);
  return restarts.map(({ killAt, upAt }, k) => {
    const end = restarts[k + 1]?.killAt ?? Infinity;
    const before = new Map<string, Uint8Array>();
    for (const s of sorted) {
      if (s.time >= killAt) break;
      const was = before.get(s.id) ?? new Uint8Array(0);
      const m = was.length >= s.offset + s.bytes ? was : Uint8Array.from({ length: s.offset + s.bytes }, (_, i) => was[i] ?? 0);
      m.fill(1, s.offset, s.offset + s.bytes);
      before.set(s.id, m);
    }
    let resent = 0;
    for (const s of sorted) {
      if (s.time < upAt || s.time >= end) continue;
      const was = before.get(s.id);
      if (was) for (let b = s.offset; b < Math.min(s.offset + s.bytes, was.length); b++) resent += was[b]!;
    }
    return resent;
  });
}

test('SIGKILL either station at random points: exactly-once, byte-identical delivery, little resent (seed printed)', async () => {
  const seed = Number(process.env.HFMAIL_CRASH_SEED ?? 20261128);
  const rnd = new SeededRandom(seed);
  pair = await stationPair(['--bit-rate', '19200', '--turnaround', '100', '--seed', String(seed)], { logLevel: 'trace', profile: SHORT_OVERS_PROFILE });
  pair.radio();
  const bodies = new Map<string, string>();
  const c = await RawSmtp.connect(pair.ports.alpha);
  await c.ehlo('laptop.field.example');
  for (let i = 0; i < 5; i++) {
    const tag = `crash${i}`;
    // A short note and a photo that hardly compresses: 15-25 KB bundles, several overs each.
    const text = Array.from({ length: 20 + rnd.int(40) }, (_, j) => `${tag} line ${j} ${'abcdefghij'.repeat(1 + rnd.int(6))}`);
    const photo = Buffer.from(rnd.bytes(15_000 + rnd.int(10_000))).toString('base64').replace(/.{76}/g, '$&\r\n');
    const body = `Subject: ${tag}\r\nMessage-ID: <${tag}@laptop>\r\n\r\n${text.join('\r\n')}\r\n${photo}\r\n`;
    bodies.set(tag, body);
    assert.match(await c.cmd(`MAIL FROM:<team@field.example> MT-PRIORITY=${rnd.int(5) - 2}`), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
    assert.match(await c.data(body), /^250 2\.6\.0 /);
  }
  await c.quit();
  const kills: { who: string; at: number }[] = [];
  for (let k = 0; k < 5; k++) {
    await new Promise((r) => setTimeout(r, 1000 + rnd.int(4000)));
    const who = rnd.next() < 0.5 ? 'alpha' : 'bravo';
    kills.push({ who, at: Date.now() });
    await pair.kill(who);
    await new Promise((r) => setTimeout(r, 100 + rnd.int(400)));
    await pair.start(who);
  }
  const info = () => `seed ${seed}, kills ${kills.map((k) => k.who).join(',')}\n${pair!.describe('alpha')}\n${pair!.describe('bravo')}`;
  for (let i = 0; i < 1800 && pair.delivered('bravo').length < bodies.size; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up, if there were one
  // HFMAIL_CRASH_DUMP=file keeps both stations' logs and the kill times, for a failure's post-mortem.
  if (process.env.HFMAIL_CRASH_DUMP) (await import('node:fs')).writeFileSync(process.env.HFMAIL_CRASH_DUMP, JSON.stringify({ kills, alpha: pair.lines.get('alpha'), bravo: pair.lines.get('bravo') }));
  const files = pair.delivered('bravo');
  const subjects = files.map((f) => /Subject: (\w+)/.exec(f.text)![1]!);
  assert.deepEqual([...subjects].sort(), [...bodies.keys()].sort(), info());
  for (const f of files) {
    const tag = /Subject: (\w+)/.exec(f.text)![1]!;
    assert.ok(f.text.endsWith(bodies.get(tag)!), `${tag} is not byte-identical; ${info()}`);
  }

  // What alpha put on the air, across its lives, and how much of it went again after each restart.
  const events = (pair.lines.get('alpha') ?? []).flatMap((l) => {
    try {
      return [JSON.parse(l) as { msg?: string; event?: string; time: number; id: string; offset: number; bytes: number }];
    } catch {
      return [];
    }
  });
  const segments = events.filter((e) => e.msg === 'segment').map((e) => ({ time: e.time, id: e.id, offset: e.offset, bytes: e.bytes }));
  const ups = events.filter((e) => e.event === 'up').map((e) => e.time);
  const restarts = kills.map((k) => ({ killAt: k.at, upAt: ups.find((t) => t > k.at) ?? Infinity }));
  const bundleSize = new Map<string, number>();
  for (const s of segments) bundleSize.set(s.id, Math.max(bundleSize.get(s.id) ?? 0, s.offset + s.bytes));
  assert.equal(bundleSize.size, bodies.size, `segments seen for ${bundleSize.size} messages`);
  const smallest = Math.min(...bundleSize.values());
  const resent = resentAfterRestarts(segments, restarts);
  const report = kills.map((k, i) => `${k.who}: ${resent[i]} B`).join(', ');
  console.log(`# crash loop seed ${seed}: bytes sent again after each restart, once the link was up: ${report}; bundles ${[...bundleSize.values()].join(', ')} B`);
  for (const [i, r] of resent.entries()) assert.ok(r < smallest / 4, `after kill ${i + 1} (${kills[i]!.who}) ${r} bytes went again; the smallest message is ${smallest} B; ${report}`);
});
