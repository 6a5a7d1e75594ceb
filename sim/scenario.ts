import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const seconds = z.number().nonnegative();
const ber = z.union([
  z.number().min(0).max(0.5),
  z.object({ good: z.number().min(0).max(0.5), bad: z.number().min(0).max(0.5), meanGoodBits: z.number().positive(), meanBadBits: z.number().positive() }).strict(),
]);

const scenarioSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    seed: z.number().int().nonnegative().default(1),
    link: z
      .object({
        bitRate: z.number().positive(),
        bitsPerByte: z.number().int().min(8).max(11).default(8),
        turnaroundS: seconds.default(0),
        propagationS: seconds.default(0.01),
        duplex: z.enum(['half', 'full']).default('half'),
        ber: ber.default(0),
        outages: z.array(z.object({ atS: seconds, durationS: seconds }).strict()).default([]),
        randomOutages: z.object({ meanIntervalS: z.number().positive(), meanDurationS: z.number().positive() }).strict().optional(),
        maxFrame: z.number().int().min(32).max(4096).default(256),
        window: z.number().int().min(1).max(512).default(128),
        maxOverS: z.number().positive().default(30),
      })
      .strict(),
    messages: z.union([
      z
        .object({
          generate: z
            .object({
              count: z.number().int().positive().optional(),
              totalBytes: z.number().int().positive().optional(),
              sizeBytes: z.union([z.number().int().positive(), z.object({ min: z.number().int().positive(), max: z.number().int().positive() })]),
              priorities: z.array(z.object({ value: z.number().int().min(-9).max(9), weight: z.number().positive() })).default([{ value: 0, weight: 1 }]),
              atS: seconds.default(0),
              spacingS: seconds.default(0),
            })
            .strict(),
        })
        .strict(),
      z.object({ folder: z.string(), priority: z.number().int().min(-9).max(9).default(0) }).strict(),
      z.array(
        z
          .object({
            atS: seconds.default(0),
            priority: z.number().int().min(-9).max(9).default(0),
            sizeBytes: z.number().int().positive().optional(),
            file: z.string().optional(),
            deadlineS: z.number().positive().optional(),
            label: z.string().optional(),
            /** A base64 attachment fills the body, as a document or photo would: it hardly compresses. */
            attachment: z.boolean().default(false),
          })
          .strict(),
      ),
    ]),
    timeLimitS: z.number().positive().default(36_000),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;

/** One message the scenario submits at a given time. */
export interface ScenarioMessage {
  readonly id: string;
  readonly atMs: number;
  readonly priority: number;
  readonly content: Uint8Array;
  readonly deadlineMs?: number;
  readonly label?: string;
}

export function loadScenario(file: string): Scenario {
  const doc = parseYaml(readFileSync(file, 'utf8'));
  const r = scenarioSchema.safeParse(doc);
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
}

export function parseScenario(doc: unknown, name = '<scenario>'): Scenario {
  const r = scenarioSchema.safeParse(doc);
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => `${name}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
}

/** The messages of a scenario, generated from its seed or read from files (relative to `baseDir`). */
export function scenarioMessages(s: Scenario, next: () => number, baseDir: string): ScenarioMessage[] {
  const m = s.messages;
  if (Array.isArray(m)) {
    return m.map((x, i) => ({
      id: `msg-${String(i).padStart(5, '0')}`,
      atMs: x.atS * 1000,
      priority: x.priority,
      content: x.file ? readFileSync(path.resolve(baseDir, x.file)) : generateMail(x.sizeBytes ?? 2000, next, i, x.attachment),
      ...(x.deadlineS !== undefined ? { deadlineMs: (x.atS + x.deadlineS) * 1000 } : {}),
      ...(x.label ? { label: x.label } : {}),
    }));
  }
  if ('folder' in m) {
    const dir = path.resolve(baseDir, m.folder);
    return readdirSync(dir)
      .filter((f) => /\.(eml|txt|msg)$/i.test(f))
      .sort()
      .map((f, i) => ({ id: `msg-${String(i).padStart(5, '0')}`, atMs: 0, priority: m.priority, content: readFileSync(path.join(dir, f)) }));
  }
  const g = m.generate;
  const out: ScenarioMessage[] = [];
  const weights = g.priorities.reduce((a, p) => a + p.weight, 0);
  let total = 0;
  for (let i = 0; g.count === undefined ? total < (g.totalBytes ?? 0) : i < g.count; i++) {
    const size = typeof g.sizeBytes === 'number' ? g.sizeBytes : g.sizeBytes.min + Math.floor(next() * (g.sizeBytes.max - g.sizeBytes.min + 1));
    let w = next() * weights;
    const prio = g.priorities.find((p) => (w -= p.weight) < 0) ?? g.priorities[0]!;
    const content = generateMail(size, next, i);
    total += content.length;
    out.push({ id: `msg-${String(i).padStart(5, '0')}`, atMs: (g.atS + i * g.spacingS) * 1000, priority: prio.value, content });
  }
  return out;
}

const WORDS = (
  'the a of to and in for on with at by from report status team supply water fuel medical request ' +
  'position north south east west road bridge river camp patients convoy weather wind rain clear ' +
  'arrival departure hours minutes tomorrow today morning evening please confirm received sent ' +
  'update list names required urgent routine batteries radio generator food shelter tents vehicle ' +
  'repair spare parts coordinates grid map sector village airport helicopter landing zone crew'
).split(' ');

/** A realistic RFC 5322 message of about `size` bytes, deterministic from the generator. */
export function generateMail(size: number, next: () => number, n: number, attachment = false): Uint8Array {
  const pick = () => WORDS[Math.floor(next() * WORDS.length)]!;
  const who = ['ops', 'logistics', 'medic', 'field7', 'hq', 'duty.officer'][Math.floor(next() * 6)]!;
  const day = 1 + Math.floor(next() * 28);
  const headers = [
    `Received: from laptop.field.example ([10.1.0.${1 + Math.floor(next() * 200)}]) by alpha.field.example with ESMTP id ${Math.floor(next() * 1e9).toString(36)} for <${who}@base.example>; Tue, ${day} Mar 2026 0${Math.floor(next() * 10)}:${10 + Math.floor(next() * 49)}:00 +0000`,
    `From: Field Team ${1 + Math.floor(next() * 9)} <team${n % 10}@field.example>`,
    `To: ${who}@base.example`,
    `Subject: ${pick()} ${pick()} ${pick()} ${n}`,
    `Date: Tue, ${day} Mar 2026 0${Math.floor(next() * 10)}:${10 + Math.floor(next() * 49)}:00 +0000`,
    `Message-ID: <${Math.floor(next() * 1e12).toString(36)}.${n}@field.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  if (attachment) {
    headers[7] = 'Content-Type: application/octet-stream; name="photo.jpg"';
    headers[8] = 'Content-Transfer-Encoding: base64';
    let body = '';
    const head = headers.join('\r\n') + '\r\n\r\n';
    const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    while (head.length + body.length < size - 78) {
      for (let i = 0; i < 76; i++) body += b64[Math.floor(next() * 64)];
      body += '\r\n';
    }
    return Buffer.from(head + body, 'utf8');
  }
  let text = headers.join('\r\n') + '\r\n\r\n';
  let line = '';
  while (text.length + line.length < size - 2) {
    const w = next() < 0.15 ? String(Math.floor(next() * 100000)) : pick();
    if (line.length + w.length + 1 > 72) {
      text += line + '\r\n';
      line = '';
    } else line += (line ? ' ' : '') + w;
  }
  text += line + '\r\n';
  return Buffer.from(text, 'utf8');
}
