/** RFC 6710 priority values run from -9 to 9; 0 is the default (section 4.1 rule 5). */
export const MIN_PRIORITY = -9;
export const MAX_PRIORITY = 9;

/** Where the determined priority came from (RFC 6710 4.1 as amended by RFC 6758 3.1). */
export type PrioritySource =
  | 'mt-priority' // MAIL FROM MT-PRIORITY= parameter
  | 'draft-priority' // MAIL FROM PRIORITY= (draft-melnikov-smtp-priority-01), mapped through the band table
  | 'header' // a single MT-Priority: header from a trusted source
  | 'policy'; // nothing given, or a client's request was overridden by site policy

export interface Priority {
  /** The determined value, -9..9: what is relayed (RFC 6710 section 5). */
  readonly value: number;
  readonly source: PrioritySource;
  /** What the client asked for, in its own scale (draft PRIORITY values are -99..99), when it asked. */
  readonly requested?: number;
}

export const DEFAULT_PRIORITY: Priority = { value: 0, source: 'policy' };
