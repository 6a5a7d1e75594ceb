// Turnarounds per batch: how many times the channel changes hands to carry 1, 5, 20 and 100 short messages,
// measured for hfmail's link on the simulator, against two models on the same link: B2F's session (SIDs and
// login, then per block of up to 5 messages the proposals, the answer FS and the messages) and a plain SMTP
// dialogue spoken over the link (every command and reply is a turn; with PIPELINING, MAIL/RCPT/DATA go together).
import { generateMail } from '../sim/mail-generator.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { b2fMessage, b2fSessionBytes, smtpDialogueBytes } from './b2f.ts';
import { envelopeOf, gatewayBundle, queuedMessage, type Submission } from './gateway-bundle.ts';
import { runLink, type LinkSpec } from './link-run.ts';

export const TURN_LINK: LinkSpec = { bitRate: 2400, turnaroundMs: 1500, propagationMs: 10, duplex: 'half', ber: 0, frameSize: 1024, window: 256, overMs: 30_000 };
export const BATCHES = [1, 5, 20, 100] as const;

export interface TurnRow {
  batch: number;
  hfmail: { overs: number; seconds: number; onAir: number };
  b2f: { overs: number; seconds: number; onAir: number };
  smtp: { overs: number; seconds: number; onAir: number };
  smtpPipelined: { overs: number; seconds: number; onAir: number };
}

/** B2F transmissions: answerer's SID; caller's SID, login and first proposals; then FS and (messages + next proposals or FF) per block; FQ. */
export function b2fOvers(n: number): number {
  return 2 + 2 * Math.ceil(n / 5) + 1;
}

/** SMTP over a half-duplex link, one turn per command and per reply: greeting, EHLO and reply, per message MAIL, RCPT, DATA, content each with a reply, QUIT and its reply. */
export function smtpOvers(n: number, pipelined: boolean): number {
  return 3 + n * (pipelined ? 4 : 8) + 2;
}

const seconds = (spec: LinkSpec, overs: number, bytes: number) => (overs * spec.turnaroundMs + (bytes * 8 * 1000) / spec.bitRate) / 1000;

export async function measureTurnarounds(): Promise<TurnRow[]> {
  const rows: TurnRow[] = [];
  for (const batch of BATCHES) {
    const rnd = new SeededRandom(batch);
    const next = () => rnd.next();
    const subs: Submission[] = [];
    for (let i = 0; i < batch; i++) {
      const eml = generateMail(500 + Math.floor(next() * 1000), next, i);
      subs.push({ id: `TURN${String(batch).padStart(4, '0')}${String(i).padStart(12, '0')}`, eml, at: 1_800_000_000_000 + i, ...envelopeOf(eml) });
    }
    const r = await runLink(
      TURN_LINK,
      subs.map((s) => ({ id: s.id, content: queuedMessage(s).content, bundle: (d) => gatewayBundle(s, d) })),
      { seed: 1 },
    );
    const b2f = [];
    for (const s of subs) b2f.push(await b2fMessage(s.eml));
    const b2fBytes = b2fSessionBytes(b2f);
    const smtpBytes = subs.reduce((a, s) => a + smtpDialogueBytes(s.eml, s.sender, s.recipients), 0);
    const b2fO = b2fOvers(batch);
    const so = smtpOvers(batch, false);
    const sp = smtpOvers(batch, true);
    rows.push({
      batch,
      hfmail: { overs: r.overs, seconds: Math.round(r.seconds * 10) / 10, onAir: r.onAir },
      b2f: { overs: b2fO, seconds: Math.round(seconds(TURN_LINK, b2fO, b2fBytes) * 10) / 10, onAir: b2fBytes },
      smtp: { overs: so, seconds: Math.round(seconds(TURN_LINK, so, smtpBytes) * 10) / 10, onAir: smtpBytes },
      smtpPipelined: { overs: sp, seconds: Math.round(seconds(TURN_LINK, sp, smtpBytes) * 10) / 10, onAir: smtpBytes },
    });
  }
  return rows;
}
