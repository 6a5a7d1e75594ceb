// /metrics after traffic: the counters moved, the gauges read the queue, and the whole answer is Prometheus text.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { createChannel } from '../sim/channel.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { systemClock } from '../src/core/index.ts';
import { Gateway, validateConfig } from '../src/gateway/index.ts';
import { noise } from './support/mail-samples.ts';
import { startGateway } from './support/gateway.ts';
import { RawSmtp } from './support/smtp-client.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (0.0.4) strictly: any line it does not know fails the test. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (m) {
      helps.add(m[1]!);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|nan|[+-]?inf))(?: -?\d+)?$/i.exec(line); // Go's ParseFloat reads NaN in any case; prom-client writes Nan
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  for (const s of samples) {
    const family = [...types.keys()].find((t) => s.name === t || s.name.startsWith(`${t}_`));
    assert.ok(family && helps.has(family), `sample ${s.name} has no # TYPE and # HELP`);
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

async function scrape(port: number): Promise<{ samples: Sample[]; types: Map<string, string>; contentType: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return { ...parsePrometheus(await res.text()), contentType: res.headers.get('content-type') ?? '' };
}

test('/metrics: accepted, delivered and refused traffic moves the counters; queue depth and age come from the queue', { timeout: 30_000 }, async () => {
  // field.example is delivered into a Maildir here; base.example goes to a smarthost nobody answers, so it stays queued.
  const gw = await startGateway({
    web: '127.0.0.1:0',
    routes: [
      { domains: ['field.example'], via: 'maildir:./mail' },
      { domains: ['base.example'], via: 'smtp://127.0.0.1:9' },
    ],
  });
  try {
    const web = gw.gateway.webAddress!.port;
    const before = await scrape(web);
    assert.match(before.contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(before.types.get('hfmail_messages_accepted_total'), 'counter');
    assert.equal(before.types.get('hfmail_queue_messages'), 'gauge');
    assert.equal(value(before.samples, 'hfmail_messages_accepted_total'), 0);

    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    // Refused: an MT-PRIORITY with a sign (RFC 6710: 501).
    assert.match(await c.cmd('MAIL FROM:<op@field.example> MT-PRIORITY=+3'), /^501/);
    for (const [to, priority] of [['ops@field.example', 2], ['ops@base.example', -4]] as const) {
      assert.match(await c.cmd(`MAIL FROM:<op@field.example> MT-PRIORITY=${priority}`), /^250/);
      assert.match(await c.cmd(`RCPT TO:<${to}>`), /^250/);
      assert.match(await c.data(`Subject: metrics ${priority}\r\n\r\nhello\r\n`), /^250/);
    }
    await c.quit();

    // Wait for the Maildir delivery (the console's recent outcomes say when).
    for (let i = 0; i < 100; i++) {
      const recent = (await (await fetch(`http://127.0.0.1:${web}/api/recent`)).json()) as { state: string }[];
      if (recent.some((r) => r.state === 'delivered')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = await scrape(web);
    const s = after.samples;
    assert.equal(value(s, 'hfmail_messages_accepted_total', { priority: '2' }), 1);
    assert.equal(value(s, 'hfmail_messages_accepted_total', { priority: '-4' }), 1);
    assert.equal(value(s, 'hfmail_recipient_outcomes_total', { outcome: 'delivered', priority: '2', via: 'relay' }), 1);
    assert.ok(value(s, 'hfmail_smtp_replies_total', { code: '501' }) >= 1);
    assert.ok(value(s, 'hfmail_smtp_replies_total', { code: '250' }) >= 7);
    assert.equal(value(s, 'hfmail_smtp_replies_total', { code: '220' }), 1);
    assert.equal(value(s, 'hfmail_queue_messages', { priority: '-4' }), 1);
    assert.equal(value(s, 'hfmail_queue_messages', { priority: '2' }), 0);
    const age = value(s, 'hfmail_queue_oldest_age_seconds', { priority: '-4' });
    assert.ok(age >= 0 && age < 30, `oldest age ${age}`);
    assert.ok(s.every((x) => x.name.startsWith('hfmail_') ? x.labels.station === 'alpha' : true), 'every hfmail_ sample names the station');
  } finally {
    await gw.stop();
  }
});

test('/metrics of two stations over a simulated cable: link up, bytes on the air, custody counted by priority', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-web-link-'));
  writeFileSync(path.join(dir, 'link.key'), 'a key shared by alpha and bravo, 32b');
  const radio = createChannel({ bitRate: 115200, duplex: 'full', turnaroundMs: 0, propagationMs: 1, ber: 0 }, systemClock, new SeededRandom(7));
  const log = pino({ level: process.env.HFMAIL_TEST_LOG ?? 'silent' });
  const station = (name: string, peer: string, local: string, remote: string) =>
    validateConfig({
      station: name,
      listen: '127.0.0.1:0',
      web: '127.0.0.1:0',
      data: `./${name}/data`,
      routes: [
        { domains: [local], via: `maildir:./${name}/maildir` },
        { domains: [remote], via: `link:${peer}` },
      ],
      links: [{ peer, port: 'simulated cable', profile: 'cable-full-duplex', key: './link.key' }],
    });
  const alpha = new Gateway({ config: station('alpha', 'bravo', 'field.example', 'base.example'), log, baseDir: dir, linkPorts: { bravo: radio.a } });
  const bravo = new Gateway({ config: station('bravo', 'alpha', 'base.example', 'field.example'), log, baseDir: dir, linkPorts: { alpha: radio.b } });
  try {
    await bravo.start();
    const { port } = await alpha.start();
    const c = await RawSmtp.connect(port);
    await c.ehlo();
    assert.match(await c.cmd('MAIL FROM:<op@field.example> MT-PRIORITY=6'), /^250/);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250/);
    // 6000 random bytes in base64: compression cannot make them much smaller than 6000 bytes.
    const body = Buffer.from(noise(6000, 3)).toString('base64').replace(/.{76}/g, '$&\r\n');
    assert.match(await c.data(`Subject: over the cable\r\n\r\n${body}\r\n`), /^250/);
    await c.quit();
    // Custody at alpha, delivery at bravo: both say so in their recent outcomes.
    const delivered = async (g: Gateway) => ((await (await fetch(`http://127.0.0.1:${g.webAddress!.port}/api/recent`)).json()) as { state: string }[]).some((r) => r.state === 'delivered');
    for (let i = 0; i < 200 && !((await delivered(alpha)) && (await delivered(bravo))); i++) await new Promise((r) => setTimeout(r, 50));
    const a = (await scrape(alpha.webAddress!.port)).samples;
    const b = (await scrape(bravo.webAddress!.port)).samples;
    assert.equal(value(a, 'hfmail_link_up', { peer: 'bravo' }), 1);
    assert.ok(value(a, 'hfmail_link_air_bytes_total', { peer: 'bravo' }) > 6000, 'the message went on the air');
    assert.ok(value(a, 'hfmail_link_overs_total', { peer: 'bravo' }) >= 1);
    assert.ok(value(a, 'hfmail_link_air_seconds_total', { peer: 'bravo' }) > 0);
    assert.equal(value(a, 'hfmail_recipient_outcomes_total', { outcome: 'delivered', via: 'link', priority: '6' }), 1);
    assert.equal(value(a, 'hfmail_link_events_total', { peer: 'bravo', event: 'custody' }), 1);
    assert.equal(value(a, 'hfmail_link_retransmissions_total', { peer: 'bravo' }), 0, 'a clean cable loses nothing');
    assert.equal(value(b, 'hfmail_recipient_outcomes_total', { outcome: 'delivered', via: 'relay', priority: '6' }), 1);
    assert.equal(value(b, 'hfmail_messages_accepted_total'), 0, 'what came over the radio was not accepted over SMTP');
    assert.equal(value(b, 'hfmail_link_up', { peer: 'alpha' }), 1);
  } finally {
    await alpha.stop();
    await bravo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
