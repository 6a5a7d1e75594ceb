/**
 * Deterministic, realistic RFC 5322 mail for the simulator: header fields as a mail client and one relay write
 * them, CRLF lines of at most 78 characters, an English-like body from a word list, optionally a photo attached
 * as base64 (which hardly compresses). The same size, random source and index give the same bytes.
 */

const WORDS = (
  'the a an of to and in for on with at by from as about after before during until near under over ' +
  'report status team supply water fuel medical request position road bridge river camp patients convoy ' +
  'weather wind rain visibility arrival departure hours minutes tomorrow today morning evening night please ' +
  'confirm received sent update list names required urgent routine batteries radio generator food shelter ' +
  'tents vehicle repair spare parts coordinates grid map sector village airstrip helicopter landing zone crew ' +
  'we you they it is are was will should can need have has been expect move hold check send bring keep ' +
  'first second next last all some two three four five ten twenty new old damaged open closed north south ' +
  'east west main clinic school well pump stock count delivery schedule frequency window contact station'
).split(' ');
const FIRST = ['Anna', 'Ben', 'Chloe', 'David', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Marta', 'Noah', 'Olga', 'Pablo'];
const LAST = ['Adams', 'Berg', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ivanova', 'Jensen', 'Kowalski', 'Lopez', 'Moreau', 'Nowak'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Dates fall in the 30 days after 2026-03-01T00:00Z, a fixed instant (the wall clock is never read). */
const DATE_BASE_MS = Date.UTC(2026, 2, 1);
const WIDTH = 72;

/** An RFC 5322 date-time, e.g. "Tue, 03 Mar 2026 08:15:42 +0000". */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/**
 * A message of exactly `size` bytes (or, below the size of its header, just the header and an empty body),
 * deterministic from `next` (uniform in [0, 1)) and the index `n`, which appears in the Subject and Message-ID.
 */
export function generateMail(size: number, next: () => number, n = 0, attachment = false): Uint8Array {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const person = () => {
    const first = pick(FIRST);
    const last = pick(LAST);
    return { name: `${first} ${last}`, mailbox: `${first}.${last}`.toLowerCase() };
  };
  const from = person();
  const to = person();
  const sent = DATE_BASE_MS + Math.floor(next() * 30 * 86_400) * 1000;
  const id = `${Math.floor(next() * 2 ** 48).toString(36)}.${n}`;
  const boundary = `=_hfmail_${id}`;
  const header = [
    `Received: from laptop.field.example ([10.1.0.${1 + Math.floor(next() * 200)}])\r\n\tby alpha.field.example with ESMTPS id ${id}\r\n\tfor <${to.mailbox}@base.example>; ${rfc5322Date(sent + 2000)}`,
    `From: ${from.name} <${from.mailbox}@field.example>`,
    `To: ${to.name} <${to.mailbox}@base.example>`,
    `Subject: ${capital(sentenceWords(next, pick, 3, 6).join(' '))} (${n})`,
    `Date: ${rfc5322Date(sent)}`,
    `Message-ID: <${id}@field.example>`,
    'MIME-Version: 1.0',
    ...(attachment
      ? [`Content-Type: multipart/mixed; boundary="${boundary}"`]
      : ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit']),
  ].join('\r\n') + '\r\n\r\n';
  let budget = size - header.length;
  if (!attachment) return utf8(header + text(Math.max(0, budget), next, pick));

  const name = `photo-${n}.jpg`;
  const textHead = `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;
  const fileHead = `--${boundary}\r\nContent-Type: image/jpeg; name="${name}"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${name}"\r\n\r\n`;
  const tail = `--${boundary}--\r\n`;
  budget -= textHead.length + fileHead.length + tail.length;
  // As many raw bytes as leave 100..180 bytes for the covering note, which then takes up the rest exactly.
  let raw = Math.max(0, Math.floor(((budget - 140) * 57) / 78));
  while (raw > 0 && base64Length(raw) > budget - 100) raw--;
  const photo = new Uint8Array(raw);
  for (let i = 0; i < raw; i++) photo[i] = Math.floor(next() * 256);
  const b64 = Buffer.from(photo).toString('base64').replace(/.{76}/g, '$&\r\n').replace(/(?<!\r\n)$/, raw > 0 ? '\r\n' : '');
  return utf8(header + textHead + text(Math.max(0, budget - b64.length), next, pick) + fileHead + b64 + tail);
}

/** Bytes of `raw` bytes as base64 in CRLF lines of 76 characters. */
function base64Length(raw: number): number {
  const chars = 4 * Math.ceil(raw / 3);
  return chars + 2 * Math.ceil(chars / 76);
}

function sentenceWords(next: () => number, pick: (l: readonly string[]) => string, min: number, max: number): string[] {
  const count = min + Math.floor(next() * (max - min + 1));
  return Array.from({ length: count }, () => (next() < 0.06 ? String(Math.floor(next() * 2400)).padStart(4, '0') : pick(WORDS)));
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Paragraphs of sentences in lines of at most 72 characters, `budget` bytes exactly (CRLF line ends). */
function text(budget: number, next: () => number, pick: (l: readonly string[]) => string): string {
  let out = '';
  let line = '';
  let sentencesLeft = 0;
  // Whole lines while plenty is left (each takes at most WIDTH + 2 bytes), so the last one stays within 78.
  while (budget - out.length > WIDTH + 6) {
    if (sentencesLeft === 0) {
      if (out.length > 0) out += '\r\n'; // a blank line between paragraphs
      sentencesLeft = 2 + Math.floor(next() * 4);
    }
    const words = sentenceWords(next, pick, 5, 14);
    words[0] = capital(words[0]!);
    words[words.length - 1] += next() < 0.1 ? '?' : '.';
    sentencesLeft--;
    for (const w of words) {
      if (line.length + 1 + w.length > WIDTH) {
        out += line + '\r\n';
        line = '';
        if (budget - out.length <= WIDTH + 6) break;
      }
      line += (line ? ' ' : '') + w;
    }
    if (sentencesLeft === 0 && line) {
      out += line + '\r\n';
      line = '';
    }
  }
  // The last line fills the rest exactly: words that fit, then a figure (or a full stop) for the odd bytes.
  const room = budget - out.length - 2;
  if (room < 0) return out;
  let last = line.length <= room ? line : '';
  for (let w = pick(WORDS); last.length + (last ? 1 : 0) + w.length <= room - 2; w = pick(WORDS)) last += (last ? ' ' : '') + w;
  const gap = room - last.length;
  if (gap === 1) last += '.';
  else if (gap > 1) last += (last ? ' ' : '') + figure(gap - (last ? 1 : 0), next);
  return out + last + '\r\n';
}

/** A number written with exactly `digits` digits, no leading zero. */
function figure(digits: number, next: () => number): string {
  let s = String(1 + Math.floor(next() * 9));
  while (s.length < digits) s += String(Math.floor(next() * 10));
  return s;
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
