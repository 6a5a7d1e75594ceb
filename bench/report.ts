// docs/benchmarks.md and its plots (docs/bench-*.svg), regenerated from one run's results.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { B2F_SESSION_BYTES } from './b2f.ts';
import type { IngestResult, Footprint } from './footprint.ts';
import type { GoodputPoint } from './goodput.ts';
import type { AirBreakdown } from './link-run.ts';
import { SIZE_CLASSES, type OnAirResult, type Summary } from './on-air.ts';
import { onAirMarkdown } from './on-air-report.ts';
import type { PriorityRun } from './priority.ts';
import { barChart, linePanels, type Panel } from './svg.ts';
import { fmt, mdTable } from './table.ts';
import type { TurnRow } from './turnarounds.ts';

export interface SuiteResults {
  date: string;
  node: string;
  cpus: string;
  wallS: number;
  corpus: string;
  onAir?: OnAirResult;
  goodput?: { points: GoodputPoint[]; ideal: Record<string, number>; airS: number; clean?: Record<string, AirBreakdown> };
  priority?: PriorityRun[];
  turnarounds?: TurnRow[];
  ingest?: IngestResult;
  footprint?: Footprint | { error: string };
}

const PROTOCOLS = ['hfmail', 'whole-message', 'stop-and-wait'] as const;

function onAirSection(r: OnAirResult, corpus: string, docs: string): string {
  const classes = ['all', ...Object.values(r.classes).map((c) => c.label)];
  const pick = (f: (s: Summary) => number) => [f(r), ...Object.values(r.classes).map(f)];
  writeFileSync(
    path.join(docs, 'bench-on-air.svg'),
    barChart({
      title: `Bytes on the air per message (mean), ${r.messages} messages`,
      yLabel: 'bytes',
      groups: classes,
      series: [
        { name: 'hfmail, session', values: pick((s) => s.meanOnAirBytes) },
        { name: 'hfmail, alone', values: pick((s) => s.meanLoneOnAirBytes) },
        { name: 'LZHUF (B2)', values: pick((s) => s.meanLzhufBytes) },
        { name: 'B2F conversion', values: pick((s) => s.meanB2fBytes) },
        { name: 'gzip -9', values: pick((s) => s.meanGzipBytes) },
        { name: 'brotli q11', values: pick((s) => s.meanBrotliBytes) },
      ],
      log: false,
      width: 860,
    }),
  );
  const L = r.link;
  const miss = (v: number, t: number) => (v <= t ? `met (${fmt.r(v)} ≤ ${t})` : `missed: ${fmt.r(v)} against ${t}, ${Math.round((v / t - 1) * 100)} % over`);
  const b2fClasses = Object.values(r.classes).filter((c) => c.messages > 0);
  // Per class: the median of the per-message ratios to B2F, and hfmail's bytes over B2F's (a few messages B2F
  // reduces to almost nothing can carry a mean of ratios alone).
  const b2fSpread = SIZE_CLASSES.map((c) => {
    const ms = r.perMessage.filter((m) => c.test(m.size));
    const ratios = ms.map((m) => m.onAir / m.b2f).sort((a, b) => a - b);
    const median = ratios.length ? (ratios.length % 2 ? ratios[ratios.length >> 1]! : (ratios[ratios.length / 2 - 1]! + ratios[ratios.length / 2]!) / 2) : 0;
    const bytes = ms.reduce((a, m) => a + m.onAir, 0) / Math.max(1, ms.reduce((a, m) => a + m.b2f, 0));
    return ms.length ? `${c.label} median ${fmt.r(median)}x, bytes ${fmt.r(bytes)}x` : '';
  }).filter((x) => x);
  return `## Bytes on the air per message

\`npm run bench -- on-air [--corpus DIR|MBOX] [--json]\`. Corpus: ${corpus}, ${r.messages} messages, mean ${fmt.n(r.meanSizeBytes)} bytes.

What is counted, per message:

- **hfmail**: the bundle exactly as the gateway makes it (the front end's Received line in front of the message,
  the envelope from MAIL FROM/RCPT TO, the gateway's \`linkBundle\` with the best dictionary both stations hold,
  made when its transfer opens, against the session's history of messages the peer already holds; the
  envelope's sender is the Return-Path or From address, its recipients the To and Cc
  addresses, at most 20), carried by two real \`LinkStation\`s over the simulator's channel in virtual time
  (${L.bitRate} bit/s, ${L.duplex} duplex, ${L.turnaroundMs} ms turnaround, frames up to ${L.frameSize} bytes, overs of
  ${(L.overMs ?? 30000) / 1000} s, no errors), every byte both stations put on the air: KISS framing and escaping,
  frame headers and MACs, acknowledgements, custody, AUTH and the hello. **Session**: the whole corpus queued at
  once and sent in file-name order (FIFO) in one session; each RECORD frame is charged to the message whose
  transfer it carries, each CUSTODY frame to the messages it confirms, and the session's own frames (hello,
  AUTH, acknowledgements, turns: ${fmt.n(r.session.sessionBytes)} of ${fmt.n(r.session.onAir)} bytes, ${r.session.overs} overs) are shared in proportion to
  those. **Alone**: each message in a session of its own, every byte charged to it.
- **LZHUF**: \`bench/lzhuf.ts\` (below) on the .eml as submitted, with B2's CRC16 and length (6 bytes).
- **B2F**: the message converted as a Winlink client converts it (\`bench/b2f.ts\`; MIME decoded with mailparser):
  the header lines Mid, Date, Type, From, To/Cc, Subject, Mbo, Body and File, the body as text (the text part,
  or the text of an HTML-only message), attachments decoded to their bytes; that compressed with LZHUF (B2
  framing), plus B2F's framing for it: its proposal line \`FC EM …\`, the data header (SOH, title, offset), two
  bytes per 250-byte block, EOT and checksum, and a fifth of a proposal block's \`F>\` and \`FS\` lines. Alone adds
  a session: both SIDs, the login and challenge lines, \`FF\` and \`FQ\` (${B2F_SESSION_BYTES.answererOpen + B2F_SESSION_BYTES.callerOpen + B2F_SESSION_BYTES.close} bytes). Only the B2F byte stream is counted,
  not the framing and ARQ of the modem under it (PACTOR, VARA), which favours B2F: every byte of hfmail's own
  framing and acknowledgements is counted.
- **gzip -9**, **brotli q11**: the .eml alone, no framing. **SMTP**: the whole dialogue that submits it (both
  directions, one connection, the content dot-stuffed).

Ratios are means of per-message ratios (\`x LZHUF\` in the session, \`x LZHUF alone\` each alone); sizes by the
.eml's size class.

${onAirMarkdown(r)}

![bytes on the air per message](bench-on-air.svg)

${overheadText([['session (the corpus in one session)', r.session.breakdown, r.messages]])}

Against the targets of issue #11 (on this corpus; the targets are for mail the project has not seen):
\`meanRatioToLzhuf\` ≤ 0.62: ${miss(r.meanRatioToLzhuf, 0.62)}; \`loneRatioToLzhuf\` ≤ 0.75: ${miss(r.loneRatioToLzhuf, 0.75)};
below the B2F conversion in every size class: ${b2fClasses.every((c) => c.meanRatioToB2f < 1) ? 'met' : `missed (${b2fClasses.map((c) => `${c.label} ${fmt.r(c.meanRatioToB2f)}x`).join(', ')})`}, as means of per-message
ratios; per class otherwise: ${b2fSpread.join('; ')}.
Making a bundle (the codec's compression, the envelope, CBOR) took ${r.meanBundleMs} ms per message on average and
${r.maxBundleMs} ms at most on this machine (target ≤ 100 ms).
The B2F conversion drops most header fields (Received chains, Message-ID, MIME structure, HTML alternatives),
which hfmail carries byte-identical; an HTML-only message becomes its text alone (a newsletter of images can
come down to a few hundred bytes), so for large HTML mail B2F's figure is that of a different, shorter message.
`;
}

function goodputSection(g: NonNullable<SuiteResults['goodput']>, docs: string): string {
  const rates = [...new Set(g.points.map((p) => p.rate))];
  const panels: Panel[] = [];
  for (const errors of ['random', 'bursty'] as const) {
    for (const rate of rates) {
      const pts = g.points.filter((p) => p.rate === rate && (p.errors === errors || p.ber === 0));
      const bers = [...new Set(pts.map((p) => p.ber))].sort((a, b) => a - b);
      panels.push({
        title: `${rate}, ${errors}`,
        lines: [
          ...PROTOCOLS.map((proto) => ({ name: proto, points: bers.map((b) => [b, pts.find((p) => p.ber === b && p.protocol === proto)?.efficiency ?? 0] as [number, number]) })),
          { name: 'ideal for the over', points: bers.map((b) => [b, g.ideal[rate]!] as [number, number]), dashed: true },
        ],
      });
    }
  }
  writeFileSync(path.join(docs, 'bench-goodput.svg'), linePanels({ title: 'Link efficiency against bit error rate', xLabel: 'bit error rate', yLabel: 'bundle bits delivered / (bit rate x time)', panels, columns: rates.length, logX: true, yMax: 1 }));
  const tables = rates
    .map((rate) => {
      const pts = g.points.filter((p) => p.rate === rate);
      const p0 = pts[0]!;
      const rows = [...new Set(pts.map((p) => `${p.errors}|${p.ber}`))].map((k) => {
        const [errors, ber] = k.split('|');
        const at = (proto: string) => pts.find((p) => p.errors === errors && String(p.ber) === ber && p.protocol === proto)!;
        return [
          `${ber === '0' ? '0' : Number(ber).toExponential(0)} ${ber === '0' ? '' : errors}`.trim(),
          ...PROTOCOLS.flatMap((proto) => {
            const p = at(proto);
            return [fmt.r(p.efficiency), `${fmt.n(p.goodputBps)}${p.delivered < p.messages ? ` (${p.delivered}/${p.messages})` : ''}`];
          }),
        ];
      });
      const clean = pts.find((p) => p.ber === 0 && p.protocol === 'hfmail');
      const e5 = pts.find((p) => p.ber === 1e-5 && p.errors === 'random' && p.protocol === 'hfmail');
      const vsIdeal = clean ? `; hfmail at BER 0 is ${fmt.r(clean.efficiency / g.ideal[rate]!)} of it (target: within 3 %)` : '';
      const at5 = e5 ? `, ${fmt.r(e5.efficiency)} at 1e-5 (target ≥ 0.90 with the longest over the profile allows)` : '';
      return `**${rate}** (${p0.bitRate} bit/s, ${p0.messages} messages; ideal for the over length ${fmt.r(g.ideal[rate]!)}${vsIdeal}${at5}):\n\n${mdTable(['BER', 'hfmail eff.', 'hfmail bit/s', 'whole-msg eff.', 'whole-msg bit/s', 'stop-and-wait eff.', 'stop-and-wait bit/s'], rows)}`;
    })
    .join('\n\n');
  return `## Goodput against bit error rate

\`npm run bench -- goodput\`. The same mail (generated messages of 2-8 KB, bundled as the gateway bundles them,
about ${g.airS} s of air at each rate) over the same simulated channel at each bit rate with the profile's
turnaround, frame size, window and over (hf-packet-300: 800 ms, 128 B, 30 s; stanag4539-2400: 1.5 s, 1024 B,
120 s, the longest its profile allows; kiss-9600: 150 ms, 512 B, 10 s), random errors and Gilbert-Elliott bursts of the same mean rate (bad
spells of 8,000 bits on average at 100 times the good state's rate). Three protocols: **hfmail** (the link
stations, selective repeat, adaptive frames); **whole-message**: each message in one transmission with a CRC-32
over the whole, answered OK or not, resent from its first byte until it checks (B2F or UUCP over a modem without
ARQ); **stop-and-wait**: frames of the profile's size, each acknowledged before the next. Link efficiency =
bundle bits delivered / (bit rate x time until the last one arrived); goodput = mail bits (the messages as
stored) per second. A protocol that had not delivered everything after ${12 * g.airS} s is charged that time (the
count delivered in brackets). The ideal for the over length is the half-duplex duty cycle: one full over, the
two turnarounds and the peer's acknowledgement (frame headers not subtracted).

${tables}

![link efficiency against bit error rate](bench-goodput.svg)
${g.clean ? `
${overheadText(Object.entries(g.clean).map(([rate, b]) => [`${rate}, BER 0`, b, g.points.find((p) => p.rate === rate)!.messages] as const))}
` : ''}`;
}

/**
 * Where the bytes on the air went: the bundles' own bytes, and each kind of overhead per message and as a share
 * of the bundles' bytes (what keeps efficiency at BER 0 below the duty cycle's ideal).
 */
function overheadText(runs: readonly (readonly [string, AirBreakdown, number])[]): string {
  const cols = ['record headers', 'MACs', 'KISS framing', 'KISS escapes', 'CTRL', 'CUSTODY', 'hello and AUTH'] as const;
  const pick = (b: AirBreakdown) => [b.recordHeaders, b.macs, b.kissFraming, b.kissEscapes, b.ctrl, b.custody, b.hello];
  const rows = runs.map(([name, b, n]) => {
    const parts = pick(b);
    const total = parts.reduce((a, x) => a + x, 0);
    return [name, (b.frames / n).toFixed(2), fmt.n(b.segments / n), ...parts.map((x) => `${fmt.n(x / n)} (${((100 * x) / b.segments).toFixed(1)} %)`), `${fmt.n(total / n)} (${((100 * total) / b.segments).toFixed(1)} %)`];
  });
  return `Where the bytes on the air go (per message, and as a share of the bundle bytes the segments carried; record
headers are the RECORD frames' own fields: type, sequence, kind, transfer, offset, and the OPEN's length, id, hash,
age and deadline; the hello is the HELLO, HELLO_REPLY and AUTH frames):

${mdTable(['run', 'frames', 'bundle bytes', ...cols, 'all overhead'], rows)}`;
}

function prioritySection(runs: PriorityRun[], docs: string): string {
  const levels = (r: PriorityRun) => Object.keys(r.latencyByPriority).sort((a, b) => Number(b) - Number(a));
  const rows = runs.flatMap((r) => levels(r).map((p) => [`${r.scenario}, ${r.scheduler === 'fifo' ? 'FIFO' : 'priority'}`, p, String(r.latencyByPriority[p]!.count), fmt.f1(r.latencyByPriority[p]!.p50), fmt.f1(r.latencyByPriority[p]!.p95), fmt.f1(r.latencyByPriority[p]!.max)]));
  const mixed = runs.filter((r) => r.scenario === 'mixed-50');
  const lv = mixed.length ? levels(mixed[0]!) : [];
  writeFileSync(
    path.join(docs, 'bench-priority.svg'),
    barChart({
      title: 'mixed-50: latency per priority (p50 and p95), priority against FIFO',
      yLabel: 'seconds, queued to custody',
      groups: lv.map((p) => `MT-PRIORITY ${p}`),
      series: mixed.flatMap((r) => [
        { name: `${r.scheduler === 'fifo' ? 'FIFO' : 'priority'} p50`, values: lv.map((p) => r.latencyByPriority[p]?.p50 ?? 0) },
        { name: `${r.scheduler === 'fifo' ? 'FIFO' : 'priority'} p95`, values: lv.map((p) => r.latencyByPriority[p]?.p95 ?? 0) },
      ]),
    }),
  );
  return `## Priority latency

\`npm run bench -- priority\`. The \`preemption\` scenario (a 100 KB routine message on the air when a 1 KB FLASH
message arrives 30 s later) and \`mixed-50\` (50 messages of 0.5-20 KB, MT-PRIORITY -2, 0, 2 and 4 weighted
12:5:2:1, one every 12 s, over a 2400 bit/s half-duplex link with a 1.5 s turnaround), each with the scheduler in
priority mode and in FIFO mode; latency is from queueing to the peer's custody, seconds.

${mdTable(['run', 'priority', 'messages', 'p50 s', 'p95 s', 'max s'], rows)}

![latency per priority](bench-priority.svg)
`;
}

function turnSection(rows: TurnRow[], docs: string): string {
  writeFileSync(
    path.join(docs, 'bench-turnarounds.svg'),
    barChart({
      title: 'Overs (transmissions) per batch of short messages',
      yLabel: 'overs',
      groups: rows.map((r) => `${r.batch} message${r.batch > 1 ? 's' : ''}`),
      series: [
        { name: 'hfmail (measured)', values: rows.map((r) => r.hfmail.overs) },
        { name: 'B2F session (model)', values: rows.map((r) => r.b2f.overs) },
        { name: 'SMTP, pipelined', values: rows.map((r) => r.smtpPipelined.overs) },
        { name: 'SMTP', values: rows.map((r) => r.smtp.overs) },
      ],
      log: true,
    }),
  );
  return `## Turnarounds per batch

\`npm run bench -- turnarounds\`. Batches of 1, 5, 20 and 100 short messages (0.5-1.5 KB) on a 2400 bit/s
half-duplex link with a 1.5 s turnaround. hfmail is measured (the link stations on the simulator: overs of both
stations until the last custody, and the time). The others are models on the same link, time = overs x
turnaround + bytes at the bit rate: the **B2F session** (the answerer's SID; the caller's SID, login and first
proposals; per block of up to 5 messages the answer \`FS\` and the messages with the next proposals or \`FF\`; \`FQ\`:
2 + 2 x blocks + 1 transmissions) and a plain **SMTP** dialogue over the link (greeting, EHLO and its reply; per
message MAIL, RCPT, DATA and the content each with its reply; QUIT and its reply; with PIPELINING MAIL, RCPT
and DATA go in one turn and their replies in one).

${mdTable(
  ['messages', 'hfmail overs', 'hfmail s', 'hfmail bytes', 'B2F overs', 'B2F s', 'B2F bytes', 'SMTP overs', 'SMTP s', 'pipelined overs', 'pipelined s', 'SMTP bytes'],
  rows.map((r) => [String(r.batch), String(r.hfmail.overs), fmt.f1(r.hfmail.seconds), fmt.n(r.hfmail.onAir), String(r.b2f.overs), fmt.f1(r.b2f.seconds), fmt.n(r.b2f.onAir), String(r.smtp.overs), fmt.f1(r.smtp.seconds), String(r.smtpPipelined.overs), fmt.f1(r.smtpPipelined.seconds), fmt.n(r.smtp.onAir)]),
)}

![overs per batch](bench-turnarounds.svg)
`;
}

function ingestSection(i: IngestResult | undefined, f: SuiteResults['footprint']): string {
  let out = `## SMTP ingest against Postfix, and footprint

\`npm run bench -- ingest\`. `;
  if (!i || !i.postfix) out += `The comparison with Postfix did not run: ${i?.postfixMissing ?? 'not measured in this run'}.\n`;
  else {
    out += `Postfix's own load client, \`smtp-source\`, drives \`hfmail start\` and a private Postfix instance (its own
configuration, queue and port, syncing every message before its 250 as hfmail does) in alternating rounds
(${i.rounds} per load, bench/postfix-compare.ts), on this machine in this run; hfmail/Postfix is the median of the
per-round ratios.

${mdTable(
  ['load', 'hfmail msg/s', 'Postfix msg/s', 'hfmail/Postfix'],
  i.postfix.map((l) => {
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return [l.load.name, fmt.n(med(l.hfmailPerSec)), fmt.n(med(l.postfixPerSec)), fmt.r(l.ratio)];
  }),
)}
`;
  }
  if (!f) out += '\nFootprint: not measured in this run.\n';
  else if ('error' in f) out += `\nFootprint: failed: ${f.error}\n`;
  else
    out += `
Footprint: two \`hfmail start\` processes (bin/hfmail.js; this run: ${f.ran}), each on a socat pty, joined by
\`hfmail sim channel\` at 1 Mbit/s full duplex so that the work measured is the gateways' own; ${f.messages} messages
of ${f.mail === 'generated' ? 'generated mail' : 'the corpus'} (${f.mbCarried} MB) submitted to alpha over SMTP while the radio was silent, then carried into
bravo's Maildir in ${f.transferSeconds} s${f.mail === 'generated' ? ' (generated mail: the corpus could not be had)' : ''}.

${mdTable(
  ['', 'alpha (sender)', 'bravo (receiver)'],
  [
    ['RSS idle, MB', fmt.f1(f.idleRssMb.alpha), fmt.f1(f.idleRssMb.bravo)],
    ['RSS peak during the transfer, MB', fmt.f1(f.transferRssMb.alpha), fmt.f1(f.transferRssMb.bravo)],
    ['CPU s (user + system) for the transfer', fmt.f1(f.cpuSeconds.alpha), fmt.f1(f.cpuSeconds.bravo)],
  ],
)}

CPU seconds per MB of mail carried, both stations: **${f.cpuSecondsPerMb}**.
`;
  return out;
}

const LZHUF_SECTION = `## LZHUF

\`bench/lzhuf.ts\` is LZHUF as Winlink's B2F uses it, written for these benchmarks from the published algorithm
(Okumura's LZSS with a binary search tree, a 2,048-byte window, a 60-byte lookahead, matches of 3 bytes or
more, and adaptive Huffman coding of literals and match lengths with the fixed code for the upper bits of the
position), framed as B2 frames it (a CRC16, CRC-16/XMODEM, then the length as 4 bytes little-endian, then the
bit stream). \`test/bench-lzhuf.test.ts\` checks it byte for byte against wl2k-go's published vectors (the
Gettysburg Address, 1,548 bytes, is 861 bytes B2-framed; bench/vectors/README.md) and round-trips random inputs
through the decompressor. It is a benchmark tool only: nothing in the gateway uses it.
`;

export function writeReport(r: SuiteResults, docs: string): void {
  const parts = [
    `# Benchmarks

Generated by \`npm run bench\` (bench/index.ts) on ${r.date.slice(0, 10)}: Node ${r.node}, ${r.cpus}; the whole run took ${Math.round(r.wallS)} s.
Everything on the radio runs in virtual time on the simulator (sim/) with fixed seeds, so the figures repeat;
SMTP ingest and the footprint are wall-clock measurements on this machine. The JSON of each part is written to
bench/results/ (not committed). \`npm run bench -- PART\` runs one part (on-air, goodput, priority, turnarounds,
ingest); \`--quick\` runs shorter versions; only a run of every part rewrites this file.
`,
    r.onAir ? onAirSection(r.onAir, r.corpus, docs) : '## Bytes on the air per message\n\nNot measured in this run.\n',
    r.goodput ? goodputSection(r.goodput, docs) : '## Goodput against bit error rate\n\nNot measured in this run.\n',
    r.priority ? prioritySection(r.priority, docs) : '## Priority latency (FIFO against priority)\n\nNot measured in this run.\n',
    r.turnarounds ? turnSection(r.turnarounds, docs) : '## Turnarounds per batch (B2F, SMTP)\n\nNot measured in this run.\n',
    ingestSection(r.ingest, r.footprint),
    LZHUF_SECTION,
  ];
  writeFileSync(path.join(docs, 'benchmarks.md'), parts.join('\n'));
}
