/** RFC 6710 section 7: priority-value = (["-"] NZDIGIT) / "0". No "+", no leading zeros, no "-0". */
export function parseMtPriority(text: string): number | null {
  return /^(?:-?[1-9]|0)$/.test(text) ? Number(text) : null;
}

/** The draft keyword PRIORITY (draft-melnikov-smtp-priority-01): -99..+99, a leading "+" allowed. */
export function parseDraftPriority(text: string): number | null {
  if (!/^[+-]?(?:0|[1-9]\d?)$/.test(text)) return null;
  const v = Number(text);
  return Object.is(v, -0) ? 0 : v;
}
