import type { Priority, PrioritySource } from '../core/index.ts';
import type { PriorityRequest } from './mail-params.ts';

/** The levels each registered policy implements (RFC 6710 appendices A-C), lowest first. */
export const POLICY_LEVELS = {
  MIXER: [-4, 0, 4], // RFC 2156 Priority: non-urgent, normal, urgent
  STANAG4406: [-4, -2, 0, 2, 4, 6], // Deferred, Routine, Priority, Immediate, Flash, Override
  NSEP: [-2, 0, 2, 4, 6],
} as const satisfies Record<string, readonly number[]>;

export type PolicyName = keyof typeof POLICY_LEVELS;

/** Default names of the levels, shown by the CLI and logs only, never on the wire (decisions.md). */
export const POLICY_LABELS: Record<PolicyName, Record<number, string>> = {
  MIXER: { [-4]: 'non-urgent', 0: 'normal', 4: 'urgent' },
  STANAG4406: { [-4]: 'deferred', [-2]: 'routine', 0: 'priority', 2: 'immediate', 4: 'flash', 6: 'override' },
  NSEP: { [-2]: 'lowest', 0: 'level 0', 2: 'level 2', 4: 'level 4', 6: 'highest' },
};

/** A band of draft PRIORITY values (-99..99) and the MT-PRIORITY value it stands for. */
export interface PriorityBand {
  readonly from: number;
  readonly to: number;
  readonly value: number;
}

/** The bands of the seed slides: -99..-40, -39..-20, -19..0, 1..20, 21..40, 41..60, 61..99. */
export const DEFAULT_BANDS: readonly PriorityBand[] = [
  { from: -99, to: -40, value: -4 },
  { from: -39, to: -20, value: -2 },
  { from: -19, to: 0, value: 0 },
  { from: 1, to: 20, value: 2 },
  { from: 21, to: 40, value: 4 },
  { from: 41, to: 60, value: 6 },
  { from: 61, to: 99, value: 9 },
];

export function bandValue(draft: number, bands: readonly PriorityBand[]): number {
  const band = bands.find((b) => draft >= b.from && draft <= b.to);
  if (!band) throw new RangeError(`no priority band holds ${draft}`); // config validation guarantees coverage
  return band.value;
}

/** RFC 6710 section 5: an unsupported value is handled as the next higher supported level, or the highest. */
export function internalLevel(value: number, policy: PolicyName): number {
  const levels = POLICY_LEVELS[policy];
  return levels.find((l) => l >= value) ?? levels[levels.length - 1]!;
}

export function levelLabel(value: number, policy: PolicyName): string {
  const level = internalLevel(value, policy);
  return POLICY_LABELS[policy][level] ?? String(level);
}

export interface PriorityInputs {
  readonly request?: PriorityRequest;
  /** Values of the message's MT-Priority: header fields, parsed (null for an invalid one). */
  readonly headerValues?: readonly (number | null)[];
  /** Highest value this client may have (0 for untrusted clients: they may only lower, RFC 6710 4.1). */
  readonly ceiling: number;
  /** Whether an MT-Priority: header from this client is honoured (RFC 6758 3.1, trusted sources only). */
  readonly trustHeader: boolean;
  readonly bands: readonly PriorityBand[];
  readonly policy: PolicyName;
}

export interface PriorityDecision {
  readonly priority: Priority;
  /** Why the value differs from what the client asked for, for a 2.3.6 reply; absent when unchanged. */
  readonly change?: string;
}

/**
 * RFC 6710 4.1 as amended by RFC 6758 3.1: parameter, else one trusted header, else policy; then the ceiling.
 * The value is what is relayed; a value the policy lacks is only handled at the next higher level (section 5),
 * and the change text says so, for the 2.3.6 reply (decisions.md).
 */
export function determinePriority(input: PriorityInputs): PriorityDecision {
  let value = 0;
  let source: PrioritySource = 'policy';
  let requested: number | undefined;
  let change: string | undefined;
  if (input.request) {
    requested = input.request.value;
    source = input.request.kind;
    value = input.request.kind === 'draft-priority' ? bandValue(requested, input.bands) : requested;
    if (input.request.kind === 'draft-priority') change = `PRIORITY ${fmt(requested)} maps to MT-PRIORITY ${value}`;
  } else if (input.trustHeader && input.headerValues?.length === 1 && input.headerValues[0] !== null) {
    value = input.headerValues[0]!;
    requested = value;
    source = 'header';
  }
  if (value > 0 && value > input.ceiling) {
    const lowered = Math.max(input.ceiling, 0);
    change = `Requested priority ${value} not authorised; using ${lowered}`;
    value = lowered;
    source = 'policy';
  }
  const level = internalLevel(value, input.policy);
  if (requested !== undefined && change === undefined && level !== value)
    change = `handled at level ${level} (${levelLabel(value, input.policy)}) of policy ${input.policy}`;
  else if (change !== undefined && level !== value) change += `, handled at level ${level}`;
  const priority: Priority = requested === undefined ? { value, source } : { value, source, requested };
  return change === undefined ? { priority } : { priority, change };
}

function fmt(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
