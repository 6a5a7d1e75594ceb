/**
 * Deterministic test traffic for the benchmarks: every envelope and RFC 5322 message is a pure function of its
 * index (a small seeded PRNG, never the clock), so two runs send byte-identical traffic.
 */

/** mulberry32: a tiny, fast 32-bit PRNG; good enough to vary test content. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchRecipient {
  address: string;
  /** RCPT TO parameters, e.g. "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y"; "" for none. */
  params: string;
}

export interface BenchMessage {
  index: number;
  sender: string;
  /** MAIL FROM parameters (after the address). */
  mailParams: string;
  /** The MT-PRIORITY value asked for. */
  priority: number;
  /** Whether the envelope carries BY=. */
  deliverBy: boolean;
  recipients: BenchRecipient[];
  /** The message as written (CRLF line endings), before dot-stuffing. */
  content: string;
  /** What goes on the wire after DATA's 354: dot-stuffed, ending with CRLF, without the final ".". */
  wire: string;
}

const PRIORITIES = [0, 2, -1, 4, -4, 6, 0, -2] as const;

const FIRST = ['Anna', 'Ben', 'Carla', 'Dmitri', 'Eva', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena'];
const LAST = ['Novak', 'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Sato', 'Tanaka', 'Ulrich', 'Vega', 'Weber', 'Young'];
const SENDER_DOMAINS = ['vessel-aurora.example', 'station-kilo.example', 'ngo-field.example', 'expedition.example'];
const RCPT_DOMAINS = ['shore-office.example', 'ops.example.org', 'logistics.example.net', 'family-mail.example'];
const SUBJECTS = [
  'Position report',
  'Fuel and water status',
  'Weather observation',
  'Crew change request',
  'Parts order for generator',
  'Daily log summary',
  'Medical consultation follow-up',
  'Schedule update for next window',
  'Re: Supplies at next port',
  'Fwd: Customs paperwork',
];
const WORDS = (
  'the position at noon was logged and the barometer is steady with wind from the north east force four ' +
  'sea state moderate visibility good we expect to reach the anchorage before the next schedule ' +
  'please confirm the parts order and the delivery address for the spare impeller and two filters ' +
  'fuel remaining is adequate for six days at cruising speed water maker running normally ' +
  'crew are well morale is good the generator needed a new belt which we fitted this morning ' +
  'request updated forecast for the passage and any notices to mariners for the approach ' +
  'the radio schedule will move one hour later from tomorrow because of propagation ' +
  'thanks for the quick reply regards from all aboard'
).split(' ');

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC, e.g. "Tue, 14 Jan 2025 08:03:07 +0000". */
function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** A line of whole words, at most `max` characters. */
function wordLine(rand: () => number, max: number): string {
  let line = '';
  for (;;) {
    const w = pick(rand, WORDS);
    const next = line ? `${line} ${w}` : w.charAt(0).toUpperCase() + w.slice(1);
    if (next.length > max) return line;
    line = next;
  }
}

/** Exactly `n` characters of text (n >= 0), no leading dot, no trailing space. */
function exactLine(rand: () => number, n: number): string {
  let line = wordLine(rand, n);
  while (line.length < n) {
    const gap = n - line.length;
    line += gap === 1 ? (line ? '.' : 'x') : ((line ? ' ' : '') + pick(rand, WORDS) + 'xxxxxxxx').slice(0, gap);
    if (line.endsWith(' ')) line = line.slice(0, -1) + '-';
  }
  return line;
}

/** RFC 5321 4.5.2: a line that begins with "." gets one more. */
export function dotStuff(content: string): string {
  return content.replace(/(^|\r\n)\./g, '$1..');
}

/** Message number `index`: envelope and content, `size` bytes of content (CRLF counted), all deterministic. */
export function benchMessage(index: number, size = 2048): BenchMessage {
  const rand = prng(Math.imul(index + 1, 0x9e3779b1) ^ 0x5eed1234);
  const person = () => `${pick(rand, FIRST)} ${pick(rand, LAST)}`;
  const sender = `op${index % 17}@${SENDER_DOMAINS[index % SENDER_DOMAINS.length]}`;
  const senderName = person();

  const rcptCount = 1 + Math.floor(rand() * 3);
  const recipients: BenchRecipient[] = [];
  for (let r = 0; r < rcptCount; r++) {
    const address = `user${(index * 7 + r * 13) % 97}@${RCPT_DOMAINS[(index + r) % RCPT_DOMAINS.length]}`;
    let params = '';
    if (index % 3 === 0) params = `NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;${address}`;
    else if (index % 7 === 1) params = 'NOTIFY=FAILURE,DELAY';
    else if (index % 11 === 5 && r === 0) params = 'NOTIFY=NEVER';
    recipients.push({ address, params });
  }

  // --- content -------------------------------------------------------------------------------------------------
  const date = Date.UTC(2025, 0, 14, 8, 0, 0) + index * 37_000;
  const subject = `${pick(rand, SUBJECTS)} #${index}`;
  const to = recipients.slice(0, Math.max(1, rcptCount - 1));
  const cc = recipients.slice(to.length);
  const headers = [
    `Received: from [10.0.${index % 250}.${(index * 3) % 250}] (mua.${SENDER_DOMAINS[index % SENDER_DOMAINS.length]})`,
    `\tby mail.${SENDER_DOMAINS[index % SENDER_DOMAINS.length]} with ESMTP id B${String(index).padStart(8, '0')};`,
    `\t${rfc5322Date(date + 2_000)}`,
    `Date: ${rfc5322Date(date)}`,
    `From: "${senderName}" <${sender}>`,
    `To: ${to.map((r) => `"${person()}" <${r.address}>`).join(',\r\n    ')}`,
    ...(cc.length ? [`Cc: ${cc.map((r) => r.address).join(', ')}`] : []),
    `Subject: ${subject}`,
    `Message-ID: <bench.${index}.${Math.floor(rand() * 1e9).toString(36)}@${SENDER_DOMAINS[index % SENDER_DOMAINS.length]}>`,
    ...(index % 4 === 2 ? [`In-Reply-To: <bench.${index - 1}@shore-office.example>`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii; format=flowed',
    'Content-Transfer-Encoding: 7bit',
    ...(index % 6 === 3 ? ['Importance: high'] : []),
    '',
    '',
  ].join('\r\n');

  const lines: string[] = [`Hello ${person().split(' ')[0]},`, ''];
  let used = headers.length + lines.reduce((n, l) => n + l.length + 2, 0);
  // Some messages carry a line that begins with "." so dot-stuffing is exercised.
  if (index % 8 === 5) {
    lines.push('.. this line starts with dots on purpose');
    used += lines[lines.length - 1]!.length + 2;
  }
  for (;;) {
    const rem = size - used;
    if (rem < 2) throw new Error(`message size ${size} is too small for the headers of message ${index}`);
    if (rem <= 76) {
      lines.push(exactLine(rand, rem - 2));
      break;
    }
    const line = rand() < 0.12 ? '' : wordLine(rand, 40 + Math.floor(rand() * 33));
    lines.push(line);
    used += line.length + 2;
  }
  const content = headers + lines.join('\r\n') + '\r\n';
  if (content.length !== size) throw new Error(`internal: message ${index} is ${content.length} bytes, wanted ${size}`);

  // --- envelope ------------------------------------------------------------------------------------------------
  const priority = PRIORITIES[index % PRIORITIES.length]!;
  const deliverBy = index % 5 === 0;
  const wire = dotStuff(content);
  const mailParams = [
    `SIZE=${content.length}`,
    `MT-PRIORITY=${priority}`,
    ...(index % 4 === 1 ? ['BODY=7BIT'] : []),
    ...(deliverBy ? ['BY=600;N'] : []),
    ...(index % 3 === 0 ? [`RET=HDRS ENVID=bench-${index}`] : []),
  ].join(' ');

  return { index, sender, mailParams, priority, deliverBy, recipients, content, wire };
}
