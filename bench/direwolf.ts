/**
 * Direwolf benchmark: a 20 KB message between two `hfmail start` stations over a pair of Direwolf AFSK 1200 soft
 * modems (test/support/direwolf.ts), clean, with receive bit errors (Direwolf -e at bravo), with FX.25 (-X 16) and
 * with both. Measures the payload rate (the bundle the link carries, per second from submission to the Maildir)
 * against the modem's raw ~144 B/s (AX.25 frames of 256 bytes at 1200 bd), frames sent again, and the gain of
 * FX.25 under errors. Prints a table and writes bench/results/direwolf.json.
 *
 *   npm run bench:direwolf -- [--size 20000] [--ber 1e-3] [--only clean,ber,fx25,fx25-ber] [--one-at-a-time]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { direwolfMissing } from '../test/support/direwolf.ts';
import { attachmentText, direwolfStations, message } from '../test/support/direwolf-stations.ts';
import { REPO } from '../test/support/gateway-process.ts';

/** AX.25 frames of 256 bytes at 1200 bd: 256 of (256 + 2 FCS) * (1 + 1/62) + 2 flags bytes on the air, 150 B/s. */
const RAW_BPS = 144;

interface Case {
  readonly name: string;
  readonly fx25: boolean;
  readonly ber?: number;
}

interface Result {
  readonly case: string;
  readonly messageBytes: number;
  readonly bundleBytes: number | null;
  readonly seconds: number | null;
  readonly payloadBps: number | null;
  readonly efficiency: number | null;
  readonly records: number | null;
  readonly resent: number | null;
  readonly frameSize: number | null;
  readonly overs: number | null;
}

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '20000' },
    ber: { type: 'string', default: '1e-3' },
    only: { type: 'string' },
    'one-at-a-time': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '600' },
  },
});

async function run(c: Case, size: number, timeoutS: number): Promise<Result> {
  const s = await direwolfStations({
    a: c.fx25 ? { fx25: 16 } : {},
    b: { ...(c.fx25 ? { fx25: 16 } : {}), ...(c.ber ? { receiveBer: c.ber } : {}) },
    profile: c.fx25 ? 'direwolf-afsk1200-fx25' : 'direwolf-afsk1200',
  });
  try {
    // Measure from a link that is up: the hello is not the message's.
    await s.waitFor(() => s.status('alpha')?.links[0]?.['up'] === true, 60_000);
    const subject = `bench-${c.name}`;
    const raw = message(subject, attachmentText(size, 42));
    let bundle: number | null = null;
    const t0 = Date.now();
    await s.send([{ raw, priority: 0 }]);
    const arrived = await s.waitFor(() => {
      const cur = s.status('alpha')?.links[0]?.['current'] as { total?: number } | undefined;
      if (cur?.total) bundle = cur.total;
      return s.arrivals('bravo').some((a) => a.bytes.includes(`Subject: ${subject}\r\n`));
    }, timeoutS * 1000);
    const seconds = arrived ? (Date.now() - t0) / 1000 : null;
    await sleep(2500); // the status file is rewritten every 2 s: let it count the last over
    const link = s.status('alpha')?.links[0] ?? {};
    const payloadBps = seconds && bundle ? bundle / seconds : null;
    return {
      case: c.name,
      messageBytes: raw.length,
      bundleBytes: bundle,
      seconds,
      payloadBps,
      efficiency: payloadBps && payloadBps / RAW_BPS,
      records: (link['records'] as number | undefined) ?? null,
      resent: (link['retransmissions'] as number | undefined) ?? null,
      frameSize: (link['frameSize'] as number | undefined) ?? null,
      overs: (link['overs'] as number | undefined) ?? null,
    };
  } finally {
    await s.stop();
  }
}

async function main(): Promise<void> {
  const missing = direwolfMissing();
  if (missing) {
    console.error(`bench:direwolf: ${missing}`);
    process.exit(2);
  }
  const size = Number(values.size);
  const ber = Number(values.ber);
  const all: Case[] = [
    { name: 'clean', fx25: false },
    { name: 'ber', fx25: false, ber },
    { name: 'fx25', fx25: true },
    { name: 'fx25-ber', fx25: true, ber },
  ];
  const only = values.only?.split(',');
  const cases = only ? all.filter((c) => only.includes(c.name)) : all;
  const timeoutS = Number(values.timeout);
  const results: Result[] = [];
  if (values['one-at-a-time']) for (const c of cases) results.push(await run(c, size, timeoutS));
  else results.push(...(await Promise.all(cases.map((c) => run(c, size, timeoutS)))));

  const f = (v: number | null, d = 0) => (v === null ? '-' : v.toFixed(d));
  console.log(`${size} B message over a Direwolf AFSK 1200 pair (raw ${RAW_BPS} B/s); -e ${ber} at the receiving modem where named`);
  console.log(['case', 'bundle B', 'seconds', 'payload B/s', 'of raw', 'records', 'resent', 'frame B', 'overs'].map((h) => h.padStart(11)).join(''));
  for (const r of results)
    console.log([r.case, f(r.bundleBytes), f(r.seconds, 1), f(r.payloadBps, 1), r.efficiency === null ? '-' : `${(r.efficiency * 100).toFixed(1)} %`, f(r.records), f(r.resent), f(r.frameSize), f(r.overs)].map((v) => String(v).padStart(11)).join(''));
  const byName = new Map(results.map((r) => [r.case, r]));
  const plain = byName.get('ber')?.payloadBps;
  const fec = byName.get('fx25-ber')?.payloadBps;
  const gain = plain && fec ? fec / plain : null;
  if (gain !== null) console.log(`FX.25 at -e ${ber}: ${gain.toFixed(2)} times the payload rate without it`);
  const out = path.join(REPO, 'bench', 'results', 'direwolf.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rawBps: RAW_BPS, messageBytes: size, ber, results, fx25GainAtBer: gain }, null, 2) + '\n');
  console.log(`written ${path.relative(process.cwd(), out)}`);
}

await main();
