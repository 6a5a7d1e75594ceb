// The plan of one chaos run, made from its seed alone: the messages (who submits them when, to whom, with which
// deadlines and notification requests, and their exact bytes), the kills, the radio (bit errors, fades) and the
// channel's own seed. The same seed gives the same plan; the run itself happens in real time.
import { SeededRandom } from '../../sim/seeded-random.ts';

export type StationName = 'alpha' | 'bravo';

/** Where an address ends up, by the routes the campaign gives the stations and what the next hop answers. */
export type Destination =
  | { readonly kind: 'maildir'; readonly station: StationName; readonly box: string }
  | { readonly kind: 'peer' }
  | { readonly kind: 'peer-refuses'; readonly status: string }
  /** The peer answers 451 for ever: only an alternate (after relay.altRecipWindowS) or a deadline ends it. */
  | { readonly kind: 'peer-defers'; readonly status: string }
  | { readonly kind: 'loop' };

export interface PlannedRecipient {
  readonly address: string;
  readonly arcpt?: string;
  /** NOTIFY as sent; null: no NOTIFY parameter. */
  readonly notify: 'SUCCESS,FAILURE' | 'FAILURE' | null;
  /** What kind of recipient the plan meant it to be (for the counts and reports). */
  readonly kind: RecipientKind;
}

export type RecipientKind = 'local-far' | 'local-near' | 'next' | 'refused-alt' | 'deferred-alt' | 'refused' | 'no-domain' | 'loop';

export interface Deadline {
  readonly seconds: number;
  readonly mode: 'R' | 'N';
}

export interface PlannedMessage {
  readonly index: number;
  readonly station: StationName;
  readonly sender: string;
  readonly atMs: number;
  readonly priority: number;
  readonly by?: Deadline;
  readonly aby?: Deadline;
  readonly ret: 'FULL' | 'HDRS';
  readonly eightBit: boolean;
  readonly recipients: readonly PlannedRecipient[];
  /** The bytes of attempt `attempt` (each attempt carries its own id): unstuffed, CRLF, ending with CRLF. */
  content(attempt: number): Buffer;
  /** The id of attempt `attempt`: in X-Chaos-Id, the Message-ID and ENVID. */
  id(attempt: number): string;
}

export interface PlannedKill {
  readonly atMs: number;
  readonly station: StationName;
  /** How long the station stays down before it is started again on the same data folder. */
  readonly downMs: number;
}

export interface RadioPlan {
  readonly bitRate: number;
  readonly turnaroundMs: number;
  readonly ber: { good: number; bad: number; pGoodToBad: number; pBadToGood: number };
  readonly outages: readonly { atMs: number; durationMs: number }[];
  readonly randomOutages: { meanIntervalMs: number; meanDurationMs: number };
  readonly channelSeed: number;
}

export interface RunPlan {
  readonly seed: number;
  readonly messages: readonly PlannedMessage[];
  readonly kills: readonly PlannedKill[];
  readonly radio: RadioPlan;
  /** Submissions happen in [0, submitWindowMs). */
  readonly submitWindowMs: number;
}

export interface PlanOptions {
  readonly messages: number;
  readonly kills: number;
  readonly submitWindowMs: number;
}

export const FULL_RUN: PlanOptions = { messages: 24, kills: 4, submitWindowMs: 30_000 };
export const SHORT_RUN: PlanOptions = { messages: 10, kills: 2, submitWindowMs: 15_000 };

/** The campaign's address plan: who delivers what where. */
export const DOMAINS = {
  alpha: 'field.example',
  alphaAlt: 'alt.field.example',
  bravo: 'base.example',
  bravoAlt: 'alt.base.example',
  next: 'next.example',
  nextAlt: 'alt.next.example',
  nowhere: 'nowhere.example',
  loop: 'loop.example',
} as const;
export const PEER_DOMAINS = [DOMAINS.next, DOMAINS.nextAlt];
export const REFUSE_PREFIX = 'reject';
export const DEFER_PREFIX = 'later';
/** relay.altRecipWindowS of both stations: how long 4xx answers go on before the alternate is tried. */
export const ALT_RECIP_WINDOW_S = 8;

/** Where mail for an address ends up (independent of which station it was submitted to). */
export function destination(address: string): Destination {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at).toLowerCase();
  const domain = address.slice(at + 1).toLowerCase();
  switch (domain) {
    case DOMAINS.alpha:
      return { kind: 'maildir', station: 'alpha', box: 'main' };
    case DOMAINS.alphaAlt:
      return { kind: 'maildir', station: 'alpha', box: 'alt' };
    case DOMAINS.bravo:
      return { kind: 'maildir', station: 'bravo', box: 'main' };
    case DOMAINS.bravoAlt:
      return { kind: 'maildir', station: 'bravo', box: 'alt' };
    case DOMAINS.loop:
      return { kind: 'loop' };
    default:
      if (!PEER_DOMAINS.includes(domain as (typeof PEER_DOMAINS)[number])) return { kind: 'peer-refuses', status: '5.1.2' };
      if (local.startsWith(REFUSE_PREFIX)) return { kind: 'peer-refuses', status: '5.1.1' };
      return local.startsWith(DEFER_PREFIX) ? { kind: 'peer-defers', status: '4.3.0' } : { kind: 'peer' };
  }
}

const WORDS = (
  'radio relay station field base priority message deliver custody frame over turnaround fade burst error ' +
  'signal antenna weather supply convoy report position grid north south east west morning evening urgent ' +
  'routine flash immediate confirm request status fuel water medical team vehicle bridge river ridge camp'
).split(' ');

function pick<T>(rnd: SeededRandom, list: readonly T[]): T {
  return list[rnd.int(list.length)]!;
}

function weighted<T>(rnd: SeededRandom, list: readonly (readonly [T, number])[]): T {
  const total = list.reduce((s, [, w]) => s + w, 0);
  let x = rnd.next() * total;
  for (const [v, w] of list) if ((x -= w) < 0) return v;
  return list[list.length - 1]![0];
}

/** A body of CRLF lines: words, lines that need dot-stuffing, long lines, 8-bit text if asked, a base64 part. */
function body(rnd: SeededRandom, eightBit: boolean): string {
  const out: string[] = [];
  const n = 3 + rnd.int(40);
  for (let i = 0; i < n; i++) {
    const r = rnd.next();
    if (r < 0.06) out.push('.');
    else if (r < 0.12) out.push(`.${pick(rnd, WORDS)} starts with a dot`);
    else if (r < 0.15) out.push(`From ${pick(rnd, WORDS)} at the start of a line`);
    else if (r < 0.18) out.push('');
    else if (r < 0.21) out.push(Array.from({ length: 60 + rnd.int(60) }, () => pick(rnd, WORDS)).join(' ').slice(0, 990));
    else if (eightBit && r < 0.35) out.push(`Grüße aus dem Feld — ${pick(rnd, WORDS)} ½ ✓`);
    else out.push(Array.from({ length: 3 + rnd.int(12) }, () => pick(rnd, WORDS)).join(' '));
  }
  if (rnd.next() < 0.25) {
    // Something that hardly compresses, as a photo would: transfers long enough for a kill to land in them.
    const blob = Buffer.from(rnd.bytes(2000 + rnd.int(10_000))).toString('base64');
    out.push('', '--- attachment ---', ...(blob.match(/.{1,76}/g) ?? []));
  }
  return out.join('\r\n') + '\r\n';
}

export function makePlan(seed: number, o: PlanOptions): RunPlan {
  const rnd = new SeededRandom(seed);
  const radioRnd = rnd.fork();
  const killRnd = rnd.fork();
  const msgRnd = rnd.fork();

  const radio: RadioPlan = {
    bitRate: 19200,
    turnaroundMs: 100,
    ber: {
      good: 1e-6 * (1 + radioRnd.int(10)),
      // Bursts up to BER 1e-3.
      bad: 1e-4 * (1 + radioRnd.int(10)),
      pGoodToBad: 1 / (100_000 + radioRnd.int(400_000)),
      pBadToGood: 1 / (2_000 + radioRnd.int(20_000)),
    },
    outages: Array.from({ length: 1 + radioRnd.int(3) }, () => ({ atMs: 2_000 + radioRnd.int(o.submitWindowMs + 15_000), durationMs: 1_000 + radioRnd.int(6_000) })).sort(
      (a, b) => a.atMs - b.atMs,
    ),
    randomOutages: { meanIntervalMs: 20_000 + radioRnd.int(30_000), meanDurationMs: 500 + radioRnd.int(2_500) },
    channelSeed: radioRnd.int(2 ** 31),
  };

  const kills: PlannedKill[] = [];
  let t = 1_500;
  const killSpan = o.submitWindowMs + 15_000;
  for (let k = 0; k < o.kills; k++) {
    t += 1_000 + killRnd.int(Math.max(1, Math.floor((2 * killSpan) / Math.max(1, o.kills)) - 1_000));
    kills.push({ atMs: t, station: killRnd.next() < 0.5 ? 'alpha' : 'bravo', downMs: 200 + killRnd.int(2_800) });
  }

  const messages: PlannedMessage[] = [];
  let serial = 0;
  for (let i = 0; i < o.messages; i++) {
    const r = msgRnd.fork();
    const station: StationName = r.next() < 0.6 ? 'alpha' : 'bravo';
    const home = station === 'alpha' ? DOMAINS.alpha : DOMAINS.bravo;
    const far = station === 'alpha' ? DOMAINS.bravo : DOMAINS.alpha;
    const sender = `s${i}@${home}`;
    const alternates = [DOMAINS.alphaAlt, DOMAINS.bravoAlt, DOMAINS.nextAlt];
    const kinds = new Set<RecipientKind>();
    const count = weighted(r, [
      [1, 5],
      [2, 3],
      [3, 2],
    ]);
    const recipients: PlannedRecipient[] = [];
    for (let j = 0; j < count; j++) {
      // One recipient per Maildir per message, so a file in a Maildir names its recipient.
      const kind = weighted<RecipientKind>(r, [
        ['local-far', kinds.has('local-far') ? 0 : 4],
        ['local-near', kinds.has('local-near') ? 0 : 1],
        ['next', 3],
        ['refused-alt', 2],
        ['deferred-alt', 1],
        ['refused', 1],
        ['no-domain', 1],
        ['loop', 1],
      ]);
      kinds.add(kind);
      const n = serial++;
      const notify = weighted<PlannedRecipient['notify']>(r, [
        ['SUCCESS,FAILURE', 6],
        ['FAILURE', 2],
        [null, 2],
      ]);
      const alt = () => `alt${n}@${pick(r, alternates)}`;
      switch (kind) {
        case 'local-far':
          recipients.push({ address: `u${n}@${far}`, notify, kind, ...(r.next() < 0.4 ? { arcpt: alt() } : {}) });
          break;
        case 'local-near':
          recipients.push({ address: `u${n}@${home}`, notify, kind });
          break;
        case 'next':
          recipients.push({ address: `n${n}@${DOMAINS.next}`, notify, kind, ...(r.next() < 0.4 ? { arcpt: alt() } : {}) });
          break;
        case 'refused-alt':
          recipients.push({ address: `${REFUSE_PREFIX}${n}@${DOMAINS.next}`, notify, kind, arcpt: alt() });
          break;
        case 'deferred-alt':
          recipients.push({ address: `${DEFER_PREFIX}${n}@${DOMAINS.next}`, notify, kind, arcpt: alt() });
          break;
        case 'refused':
          recipients.push({ address: `${REFUSE_PREFIX}${n}@${DOMAINS.next}`, notify, kind });
          break;
        case 'no-domain':
          recipients.push({ address: `x${n}@${DOMAINS.nowhere}`, notify, kind });
          break;
        case 'loop':
          recipients.push({ address: `l${n}@${DOMAINS.loop}`, notify, kind });
          break;
      }
    }
    // Deadlines short enough that some expire on the way (a kill and a restart take seconds, a fade as long).
    const byRoll = r.next();
    const by: Deadline | undefined = byRoll < 0.35 ? { seconds: 5 + r.int(36), mode: 'R' } : byRoll < 0.5 ? { seconds: 5 + r.int(56), mode: 'N' } : undefined;
    let aby: Deadline | undefined;
    if (recipients.some((x) => x.arcpt) && r.next() < 0.6) {
      // ABY is shorter than BY (the front end refuses it otherwise).
      const max = by ? Math.min(20, by.seconds - 1) : 20;
      aby = { seconds: 1 + r.int(max), mode: r.next() < 0.7 ? 'R' : 'N' };
    }
    const priority = -4 + r.int(11);
    const ret = r.next() < 0.3 ? 'FULL' : 'HDRS';
    const eightBit = r.next() < 0.2;
    const atMs = r.int(o.submitWindowMs);
    const subject = Array.from({ length: 2 + r.int(5) }, () => pick(r, WORDS)).join(' ');
    const text = body(r, eightBit);
    const id = (attempt: number) => `chaos.${seed}.${i}.${attempt}`;
    const content = (attempt: number) =>
      Buffer.from(
        [
          `From: <${sender}>`,
          `To: ${recipients.map((x) => `<${x.address}>`).join(', ')}`,
          `Subject: ${subject}`,
          `Date: ${new Date(Date.UTC(2026, 0, 1) + seed * 1000 + i * 60_000).toUTCString().replace('GMT', '+0000')}`,
          `Message-ID: <${id(attempt)}@${home}>`,
          `X-Chaos-Id: ${id(attempt)}`,
          'MIME-Version: 1.0',
          `Content-Type: text/plain; charset=${eightBit ? 'utf-8' : 'us-ascii'}`,
          `Content-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}`,
          '',
          '',
        ].join('\r\n') + text,
        'utf8',
      );
    messages.push({ index: i, station, sender, atMs, priority, ...(by ? { by } : {}), ...(aby ? { aby } : {}), ret, eightBit, recipients, content, id });
  }
  messages.sort((a, b) => a.atMs - b.atMs || a.index - b.index);
  return { seed, messages, kills, radio, submitWindowMs: o.submitWindowMs };
}
