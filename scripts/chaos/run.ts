// One chaos run: the plan from the seed, the stations and the radio, submissions and kills on the plan's clock,
// quiescence, and the oracle's verdict.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawSmtp } from '../../test/support/smtp-client.ts';
import { Cluster } from './cluster.ts';
import { startNextHop } from './next-hop.ts';
import { judge, type Attempt, type Observations, type Verdict } from './oracle.ts';
import { blindSpots, mutations } from './oracle-check.ts';
import { DEFER_PREFIX, makePlan, PEER_DOMAINS, REFUSE_PREFIX, type PlannedMessage, type PlanOptions, type RunPlan, type StationName } from './plan.ts';

export interface RunOptions {
  readonly plan: PlanOptions;
  /** How long, after the last submission and kill, the stations may take to settle. */
  readonly settleLimitMs: number;
  /** Keep the run's folder (station logs, data, Maildirs) even when it passes. */
  readonly keep?: boolean;
  readonly log?: (line: string) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly plan: RunPlan;
  readonly attempts: readonly Attempt[];
  readonly verdict: Verdict;
  /** What the oracle judged (for checking the oracle itself). */
  readonly observations: Observations;
  readonly kills: Readonly<Record<StationName, number>>;
  readonly durationMs: number;
  /** The run's folder, if kept (always kept on failure). */
  readonly dir?: string;
}

/** RFC 5321 4.5.2. */
function dotStuff(content: Buffer): Buffer {
  const text = content.toString('latin1');
  return Buffer.from((text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..'), 'latin1');
}

function mailLine(m: PlannedMessage, id: string): string {
  const p = [`ENVID=${id}`, `RET=${m.ret}`, `MT-PRIORITY=${m.priority}`];
  if (m.by) p.push(`BY=${m.by.seconds};${m.by.mode}`);
  if (m.aby) p.push(`ABY=${m.aby.seconds};${m.aby.mode}`);
  if (m.eightBit) p.push('BODY=8BITMIME');
  return `MAIL FROM:<${m.sender}> ${p.join(' ')}`;
}

function rcptLine(r: PlannedMessage['recipients'][number]): string {
  const p: string[] = [];
  if (r.notify) p.push(`NOTIFY=${r.notify}`);
  if (r.arcpt) p.push(`ARCPT=rfc822;${r.arcpt}`);
  return `RCPT TO:<${r.address}>${p.map((x) => ' ' + x).join('')}`;
}

/**
 * Submits a planned message to its station by SMTP. A connection that dies (the station was killed) is tried again
 * as a new attempt with its own id, once the station is back; a refusal is final.
 */
async function submit(cluster: Cluster, m: PlannedMessage): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let k = 0; k < 3; k++) {
    await cluster.whenUp(m.station);
    const id = m.id(k);
    let phase = 'connect';
    let c: RawSmtp | undefined;
    const accepted: PlannedMessage['recipients'][number][] = [];
    const refusedRcpts: string[] = [];
    try {
      c = await RawSmtp.connect(cluster.ports[m.station]);
      phase = 'EHLO';
      await c.ehlo('chaos-client.example');
      phase = 'MAIL';
      const mail = await c.cmd(mailLine(m, id));
      if (!mail.startsWith('250')) {
        attempts.push({ message: m, attempt: k, id, outcome: 'refused', detail: `MAIL: ${mail}`, recipients: [] });
        await c.quit();
        return attempts;
      }
      phase = 'RCPT';
      for (const r of m.recipients) {
        const reply = await c.cmd(rcptLine(r));
        if (reply.startsWith('250')) accepted.push(r);
        else refusedRcpts.push(`RCPT <${r.address}>: ${reply}`);
      }
      if (!accepted.length) {
        attempts.push({ message: m, attempt: k, id, outcome: 'refused', detail: refusedRcpts.join('; '), recipients: [] });
        await c.quit();
        return attempts;
      }
      phase = 'DATA';
      const reply = await c.data(dotStuff(m.content(k)));
      const ok = reply.startsWith('250');
      attempts.push({ message: m, attempt: k, id, outcome: ok ? 'accepted' : 'refused', detail: [`DATA: ${reply.split('\r\n')[0]}`, ...refusedRcpts].join('; '), recipients: accepted });
      await c.quit();
      return attempts;
    } catch (err) {
      c?.destroy();
      // Only a connection lost after the data went may have left the message stored.
      attempts.push({ message: m, attempt: k, id, outcome: phase === 'DATA' ? 'uncertain' : 'interrupted', detail: `connection lost during ${phase}: ${(err as Error).message.slice(0, 120)}`, recipients: phase === 'DATA' ? accepted : [] });
      await sleep(200);
    }
  }
  return attempts;
}

export async function runChaos(seed: number, o: RunOptions): Promise<RunResult> {
  const log = o.log ?? (() => undefined);
  const started = Date.now();
  const plan = makePlan(seed, o.plan);
  const dir = mkdtempSync(path.join(os.tmpdir(), `hfmail-chaos-${seed}-`));
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ ...plan, messages: plan.messages.map(({ content: _c, id: _i, ...m }) => m) }, null, 2));
  const peer = await startNextHop({ domains: PEER_DOMAINS, refusePrefix: REFUSE_PREFIX, deferPrefix: DEFER_PREFIX });
  const cluster = await Cluster.create(dir, plan.radio, peer.port);
  const kills: Record<StationName, number> = { alpha: 0, bravo: 0 };
  const killTimes: { station: StationName; at: number }[] = [];
  let attempts: Attempt[] = [];
  let obs: Observations;
  try {
    await Promise.all([cluster.start('alpha'), cluster.start('bravo')]);
    cluster.radio(plan.radio.channelSeed);
    const t0 = Date.now();
    const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
    log(`seed ${seed}: ${plan.messages.length} messages over ${plan.submitWindowMs / 1000} s, kills ${plan.kills.map((k) => `${k.station}@${(k.atMs / 1000).toFixed(1)}s`).join(' ') || 'none'}; folder ${dir}`);
    const killing = (async () => {
      for (const k of plan.kills) {
        await at(k.atMs);
        log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: SIGKILL ${k.station}, down ${k.downMs} ms`);
        killTimes.push({ station: k.station, at: Date.now() });
        await cluster.kill(k.station);
        kills[k.station]++;
        await sleep(k.downMs);
        await cluster.restart(k.station);
      }
    })();
    const submitting = Promise.all(
      plan.messages.map(async (m) => {
        await at(m.atMs);
        return submit(cluster, m);
      }),
    );
    attempts = (await submitting).flat();
    await killing;
    log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: all submitted (${attempts.filter((a) => a.outcome === 'accepted').length} accepted) and all kills done; waiting for quiescence`);

    // Quiescence: both queues hold nothing queued and nothing new has arrived for a few seconds.
    const limit = Date.now() + o.settleLimitMs;
    let last = '';
    let stableSince = Date.now();
    let settled = false;
    for (;;) {
      await sleep(2000);
      const sig = `${cluster.maildirCount()}/${peer.transactions.length}`;
      if (sig !== last) {
        last = sig;
        stableSince = Date.now();
      }
      const qa = await cluster.queue('alpha');
      const qb = await cluster.queue('bravo');
      // Nothing queued: what is left (held, corrupt) will not move by itself, and the oracle names it.
      const idle = (q: typeof qa) => Array.isArray(q) && q.every((e) => e.recipients.every((r) => r.state !== 'queued'));
      const empty = idle(qa) && idle(qb);
      if (empty && Date.now() - stableSince >= 4000) {
        settled = true;
        break;
      }
      if (Date.now() > limit) break;
    }
    log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: ${settled ? 'quiescent' : 'time limit reached'}`);
    await sleep(1500); // room for a late duplicate, if there were one
    obs = { maildirs: cluster.maildirs(), peer: [...peer.transactions], queues: { alpha: await cluster.queue('alpha'), bravo: await cluster.queue('bravo') }, settled, kills: killTimes };
  } finally {
    cluster.close();
    await peer.close();
  }
  const verdict = judge(attempts, obs);
  for (const c of cluster.crashes) verdict.failures.push(`a station crashed: ${c}`);
  // The harness keeps itself honest: the oracle must notice these observations spoiled.
  const blind = blindSpots(attempts, obs);
  if (blind.length) verdict.failures.push(`HARNESS: the oracle did not notice: ${blind.join('; ')}`);
  else verdict.notes.push(`oracle self-check: ${mutations(attempts, obs).length} spoiled copies of the observations all caught`);
  const keep = o.keep || verdict.failures.length > 0;
  if (keep) {
    const attemptsOut = attempts.map(({ message, recipients, ...a }) => ({ ...a, station: message.station, recipients: recipients.map((r) => r.address) }));
    writeFileSync(path.join(dir, 'verdict.json'), JSON.stringify({ seed, verdict, attempts: attemptsOut }, null, 2));
    writeFileSync(path.join(dir, 'next-hop.json'), JSON.stringify(obs.peer.map((t) => ({ ...t, content: t.content.toString('latin1') })), null, 2));
  } else rmSync(dir, { recursive: true, force: true });
  return { seed, plan, attempts, verdict, observations: obs, kills, durationMs: Date.now() - started, ...(keep ? { dir } : {}) };
}
