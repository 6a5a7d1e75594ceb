import { z } from 'zod';
import { SUPPORTED_DICTIONARY_VERSIONS } from '../src/codec/index.ts';

// Durations may be written in ms (`turnaroundMs: 1500`) or, as older scenario files do, in seconds
// (`turnaroundS: 1.5`); never both. The parsed scenario carries ms (plus the seconds that older readers use).

const nonneg = z.number().nonnegative();
const positive = z.number().positive();
const rate = z.number().min(0).max(0.5);
const priority = z.number().int().min(-9).max(9);
const frame = z.number().int().min(32).max(4096);
const windowSize = z.number().int().min(1).max(512);
/** Which station submits a message: a is alpha (the caller), b is bravo (the answerer). */
const from = z.enum(['a', 'b'], { error: 'expected a (alpha, the caller) or b (bravo, the answerer)' }).default('a');

type Pair = readonly [string, string, boolean?];

/** Refinement: each pair given at most once (and at least once where the third element says so). */
function pairs(list: readonly Pair[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const [a, b, required] of list) {
      if (v[a] !== undefined && v[b] !== undefined) ctx.addIssue({ code: 'custom', path: [b], message: `give ${a} or ${b}, not both` });
      else if (required && v[a] === undefined && v[b] === undefined) ctx.addIssue({ code: 'custom', path: [a], message: `required (or ${b})` });
    }
  };
}

const ms = (inMs: number | undefined, inS: number | undefined, fallback: number): number => inMs ?? (inS !== undefined ? inS * 1000 : fallback);

const gilbertElliott = z
  .object({
    good: rate,
    bad: rate,
    pGoodToBad: z.number().gt(0).max(1).optional(),
    pBadToGood: z.number().gt(0).max(1).optional(),
    meanGoodBits: z.number().min(1).optional(),
    meanBadBits: z.number().min(1).optional(),
  })
  .strict()
  .superRefine(pairs([['pGoodToBad', 'meanGoodBits', true], ['pBadToGood', 'meanBadBits', true]]))
  .transform((v) => ({ good: v.good, bad: v.bad, pGoodToBad: v.pGoodToBad ?? 1 / v.meanGoodBits!, pBadToGood: v.pBadToGood ?? 1 / v.meanBadBits! }));

const ber = z.union([rate, gilbertElliott], { error: 'expected a bit error rate (0..0.5) or { good, bad, pGoodToBad, pBadToGood }' });

const outage = z
  .object({ atMs: nonneg.optional(), atS: nonneg.optional(), durationMs: positive.optional(), durationS: positive.optional() })
  .strict()
  .superRefine(pairs([['atMs', 'atS', true], ['durationMs', 'durationS', true]]))
  .transform((v) => {
    const atMs = ms(v.atMs, v.atS, 0);
    const durationMs = ms(v.durationMs, v.durationS, 0);
    return { atMs, durationMs, atS: atMs / 1000, durationS: durationMs / 1000 };
  });

const randomOutages = z
  .object({ meanIntervalMs: positive.optional(), meanIntervalS: positive.optional(), meanDurationMs: positive.optional(), meanDurationS: positive.optional() })
  .strict()
  .superRefine(pairs([['meanIntervalMs', 'meanIntervalS', true], ['meanDurationMs', 'meanDurationS', true]]))
  .transform((v) => ({ meanIntervalMs: ms(v.meanIntervalMs, v.meanIntervalS, 0), meanDurationMs: ms(v.meanDurationMs, v.meanDurationS, 0) }));

const dictionaries = z
  .array(
    z
      .number()
      .int()
      .refine((d) => SUPPORTED_DICTIONARY_VERSIONS.includes(d), { error: (i) => `dictionary version ${String(i.input)} is not one this build has (${SUPPORTED_DICTIONARY_VERSIONS.join(', ')})` }),
  )
  .min(1, { error: 'list at least one dictionary version (0 is none)' })
  .refine((l) => new Set(l).size === l.length, { error: 'a dictionary version is listed twice' });

/** One station's own link settings: `link.a` (alpha) or `link.b` (bravo); what is not given comes from `link`. */
const side = z.object({ frameSize: frame.optional(), window: windowSize.optional(), dictionaries: dictionaries.optional() }, { error: 'expected { frameSize, window, dictionaries }' }).strict();

const link = z
  .object({
    bitRate: positive,
    bitsPerByte: z.number().int().min(5).max(12).optional(),
    asyncFraming: z.boolean().optional(),
    turnaroundMs: nonneg.optional(),
    turnaroundS: nonneg.optional(),
    propagationMs: nonneg.optional(),
    propagationS: nonneg.optional(),
    duplex: z.enum(['half', 'full']).default('half'),
    ber: ber.default(0),
    outages: z.array(outage).default([]),
    randomOutages: randomOutages.optional(),
    frameSize: frame.optional(),
    maxFrame: frame.optional(),
    window: windowSize.default(128),
    overMs: positive.optional(),
    maxOverS: positive.optional(),
    deliveryQuantumMs: nonneg.optional(),
    a: side.optional(),
    b: side.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    pairs([['turnaroundMs', 'turnaroundS'], ['propagationMs', 'propagationS'], ['frameSize', 'maxFrame'], ['overMs', 'maxOverS']])(v, ctx);
    if (v.asyncFraming && v.bitsPerByte !== undefined && v.bitsPerByte !== 10) ctx.addIssue({ code: 'custom', path: ['bitsPerByte'], message: 'asyncFraming means 10 bits per byte' });
  })
  .transform((v) => {
    const turnaroundMs = ms(v.turnaroundMs, v.turnaroundS, 0);
    const propagationMs = ms(v.propagationMs, v.propagationS, 10);
    const frameSize = v.frameSize ?? v.maxFrame ?? 256;
    const station = (s: z.output<typeof side> | undefined) => ({
      frameSize: s?.frameSize ?? frameSize,
      window: s?.window ?? v.window,
      dictionaries: [...(s?.dictionaries ?? SUPPORTED_DICTIONARY_VERSIONS)].sort((x, y) => x - y),
    });
    return {
      bitRate: v.bitRate,
      bitsPerByte: v.bitsPerByte ?? (v.asyncFraming ? 10 : 8),
      duplex: v.duplex,
      turnaroundMs,
      propagationMs,
      ber: v.ber,
      outages: v.outages,
      randomOutages: v.randomOutages,
      frameSize,
      window: v.window,
      /** Each station's own frame size, window and dictionaries (versions, ascending): `link.a`/`link.b` over `link`. */
      a: station(v.a),
      b: station(v.b),
      overMs: ms(v.overMs, v.maxOverS, 30_000),
      deliveryQuantumMs: v.deliveryQuantumMs ?? 0,
      /** The same in seconds, for readers written against the older spelling. */
      turnaroundS: turnaroundMs / 1000,
      propagationS: propagationMs / 1000,
    };
  });

const sizeBytes = z.union(
  [
    z.number().int().positive(),
    z
      .object({ min: z.number().int().positive(), max: z.number().int().positive() })
      .strict()
      .refine((s) => s.min <= s.max, { path: ['max'], message: 'must be at least min' }),
  ],
  { error: 'expected a size in bytes or { min, max }' },
);

const generate = z
  .object({
    generate: z
      .object({
        count: z.number().int().positive().optional(),
        totalBytes: z.number().int().positive().optional(),
        sizeBytes,
        priorities: z.array(z.object({ value: priority, weight: positive }).strict()).min(1).default([{ value: 0, weight: 1 }]),
        startMs: nonneg.optional(),
        atS: nonneg.optional(),
        spacingMs: nonneg.optional(),
        spacingS: nonneg.optional(),
        attachment: z.boolean().default(false),
        from,
      })
      .strict()
      .superRefine((v, ctx) => {
        pairs([['startMs', 'atS'], ['spacingMs', 'spacingS']])(v, ctx);
        if (v.count === undefined && v.totalBytes === undefined) ctx.addIssue({ code: 'custom', path: ['count'], message: 'required (or totalBytes)' });
      })
      .transform(({ count, totalBytes, sizeBytes, priorities, attachment, from, ...v }) => ({
        count,
        totalBytes,
        sizeBytes,
        priorities,
        attachment,
        from,
        startMs: ms(v.startMs, v.atS, 0),
        spacingMs: ms(v.spacingMs, v.spacingS, 0),
      })),
  })
  .strict();

const folder = z
  .object({ folder: z.string().min(1), priority: priority.default(0), from, startMs: nonneg.optional(), atS: nonneg.optional(), spacingMs: nonneg.optional(), spacingS: nonneg.optional() })
  .strict()
  .superRefine(pairs([['startMs', 'atS'], ['spacingMs', 'spacingS']]))
  .transform((v) => ({ folder: v.folder, priority: v.priority, from: v.from, startMs: ms(v.startMs, v.atS, 0), spacingMs: ms(v.spacingMs, v.spacingS, 0) }));

const listed = z
  .object({
    atMs: nonneg.optional(),
    atS: nonneg.optional(),
    priority: priority.default(0),
    sizeBytes: z.number().int().positive().optional(),
    file: z.string().min(1).optional(),
    /** After `atMs`, when the message must have been delivered. */
    deadlineMs: positive.optional(),
    deadlineS: positive.optional(),
    label: z.string().optional(),
    /** A base64 photo fills the body, as a document or picture would: it hardly compresses. */
    attachment: z.boolean().default(false),
    from,
  })
  .strict()
  .superRefine((v, ctx) => {
    pairs([['atMs', 'atS'], ['deadlineMs', 'deadlineS'], ['sizeBytes', 'file', true]])(v, ctx);
  })
  .transform((v) => ({
    atMs: ms(v.atMs, v.atS, 0),
    priority: v.priority,
    sizeBytes: v.sizeBytes,
    file: v.file,
    deadlineMs: v.deadlineMs ?? (v.deadlineS !== undefined ? v.deadlineS * 1000 : undefined),
    label: v.label,
    attachment: v.attachment,
    from: v.from,
  }));

/** A third transmitter: forged hellos, alternately claiming to be alpha (heard by bravo) and bravo (heard by alpha). */
const attack = z
  .object({ forgedHelloEveryMs: positive.optional(), forgedHelloEveryS: positive.optional() }, { error: 'expected { forgedHelloEveryMs }' })
  .strict()
  .superRefine(pairs([['forgedHelloEveryMs', 'forgedHelloEveryS', true]]))
  .transform((v) => ({ forgedHelloEveryMs: ms(v.forgedHelloEveryMs, v.forgedHelloEveryS, 0) }));

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.number().int().min(0).max(0xffff_ffff).default(1),
    link,
    messages: z.union([generate, folder, z.array(listed).min(1)], { error: 'expected { generate: ... }, { folder: ... } or a list of messages' }),
    attack: attack.optional(),
    timeLimitS: positive.default(36_000),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioLink = Scenario['link'];
