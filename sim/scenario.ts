import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { ChannelOptions } from './channel.ts';
import { generateMail } from './mail-generator.ts';
import { scenarioSchema, type Scenario, type ScenarioLink } from './scenario-schema.ts';

export { generateMail } from './mail-generator.ts';
export type { Scenario, ScenarioLink } from './scenario-schema.ts';

/** One message the scenario submits at a given time. */
export interface ScenarioMessage {
  readonly id: string;
  /** When it is queued, ms after the start. */
  readonly atMs: number;
  readonly priority: number;
  readonly content: Uint8Array;
  /** When it must have been delivered, ms after the start. */
  readonly deadlineMs?: number;
  readonly label?: string;
  /** The station that submits it: a (alpha, the caller) sends to b (bravo, the answerer), b to a. */
  readonly from: 'a' | 'b';
}

/** A scenario file that cannot be read or is not valid; the message names the file and every offending key. */
export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
    this.name = 'ScenarioError';
  }
}

/** Reads and validates a scenario YAML file. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ScenarioError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  return parseScenario(doc, file);
}

/** Validates a scenario given as data; `name` stands for the file in error messages. */
export function parseScenario(doc: unknown, name = '<scenario>'): Scenario {
  const r = scenarioSchema.safeParse(doc);
  if (r.success) return r.data;
  throw new ScenarioError(name, describeIssues(r.error.issues));
}

type Issue = z.core.$ZodIssue;
type Key = PropertyKey;

/** One line per problem: `link.outages[0].atMs: Too small: ...`; unions report the branch that got furthest. */
function describeIssues(issues: readonly Issue[], base: readonly Key[] = []): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const scored = issue.errors.map((branch) => ({ branch, score: Math.max(...branch.map(score)) }));
      const best = Math.max(...scored.map((s) => s.score));
      const winners = scored.filter((s) => s.score === best);
      if (winners.length === 1 && best > 0) out.push(...describeIssues(winners[0]!.branch, at));
      else out.push(`${keyPath(at)}: ${issue.message}`);
    } else if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push(`${keyPath([...at, k])}: unknown key`);
    } else out.push(`${keyPath(at)}: ${isMissing(issue) ? 'required' : issue.message}`);
  }
  return out;
}

const isMissing = (issue: Issue) => issue.code === 'invalid_type' && issue.path.length > 0 && /received undefined$/.test(issue.message);

/** How far an issue got into the input: deeper is a better match; a missing key counts one level up. */
function score(issue: Issue): number {
  const depth = issue.path.length - (isMissing(issue) ? 1 : 0);
  return depth * 2 + (issue.code === 'invalid_type' ? 0 : 1);
}

function keyPath(p: readonly Key[]): string {
  if (p.length === 0) return '(top level)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');
}

/** The channel a scenario describes. */
export function channelOptions(link: ScenarioLink): ChannelOptions {
  return {
    bitRate: link.bitRate,
    bitsPerByte: link.bitsPerByte,
    propagationMs: link.propagationMs,
    duplex: link.duplex,
    turnaroundMs: link.turnaroundMs,
    ber: link.ber,
    outages: link.outages,
    ...(link.randomOutages ? { randomOutages: link.randomOutages } : {}),
    deliveryQuantumMs: link.deliveryQuantumMs,
  };
}

/** Numbered over the whole scenario, so ids are unique across both directions. */
const messageId = (i: number) => `msg-${String(i).padStart(5, '0')}`;

/**
 * The messages of a scenario: generated from `next` (uniform in [0, 1), from the scenario's seed), or read from
 * files, relative to `baseDir` (the scenario file's folder).
 */
export function scenarioMessages(s: Scenario, next: () => number, baseDir: string): ScenarioMessage[] {
  const m = s.messages;
  if (Array.isArray(m)) {
    return m.map((x, i) => ({
      id: messageId(i),
      atMs: x.atMs,
      priority: x.priority,
      content: x.file !== undefined ? readMessageFile(path.resolve(baseDir, x.file)) : generateMail(x.sizeBytes ?? 0, next, i, x.attachment),
      ...(x.deadlineMs !== undefined ? { deadlineMs: x.atMs + x.deadlineMs } : {}),
      ...(x.label !== undefined ? { label: x.label } : {}),
      from: x.from,
    }));
  }
  if ('folder' in m) {
    const dir = path.resolve(baseDir, m.folder);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new Error(`messages.folder: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return names
      .filter((f) => /\.(eml|txt|msg)$/i.test(f))
      .sort()
      .map((f, i) => ({ id: messageId(i), atMs: m.startMs + i * m.spacingMs, priority: m.priority, content: readMessageFile(path.join(dir, f)), from: m.from }));
  }
  const g = m.generate;
  const out: ScenarioMessage[] = [];
  const weights = g.priorities.reduce((a, p) => a + p.weight, 0);
  let total = 0;
  for (let i = 0; (g.count === undefined || i < g.count) && (g.totalBytes === undefined || total < g.totalBytes); i++) {
    const size = typeof g.sizeBytes === 'number' ? g.sizeBytes : g.sizeBytes.min + Math.floor(next() * (g.sizeBytes.max - g.sizeBytes.min + 1));
    let w = next() * weights;
    const prio = g.priorities.find((p) => (w -= p.weight) < 0) ?? g.priorities[g.priorities.length - 1]!;
    const content = generateMail(size, next, i, g.attachment);
    total += content.length;
    out.push({ id: messageId(i), atMs: g.startMs + i * g.spacingMs, priority: prio.value, content, from: g.from });
  }
  return out;
}

function readMessageFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`messages: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
