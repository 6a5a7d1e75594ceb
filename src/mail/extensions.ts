/** What this server advertises in EHLO; parameters of extensions not advertised are unknown (555). */
export interface AdvertisedExtensions {
  readonly size: number; // 0 = no fixed limit
  readonly eightBitMime: boolean;
  readonly smtpUtf8: boolean;
  readonly dsn: boolean;
  /** DELIVERBY minimum in seconds (RFC 2852 section 3), or null when not advertised. */
  readonly deliverByMin: number | null;
  /** MT-PRIORITY policy name, or null when not advertised. */
  readonly mtPriority: string | null;
  /** The draft keyword PRIORITY (-99..+99). */
  readonly draftPriority: boolean;
  readonly altRecip: boolean;
  readonly auth: boolean;
}

/** The EHLO keyword lines our extensions add to what smtp-server prints itself. */
export function extensionKeywords(ext: AdvertisedExtensions): string[] {
  const lines: string[] = [];
  if (ext.deliverByMin !== null) lines.push(ext.deliverByMin > 0 ? `DELIVERBY ${ext.deliverByMin}` : 'DELIVERBY');
  if (ext.mtPriority !== null) lines.push(ext.mtPriority ? `MT-PRIORITY ${ext.mtPriority}` : 'MT-PRIORITY');
  if (ext.draftPriority) lines.push('PRIORITY');
  if (ext.altRecip) lines.push('ALTRECIP');
  return lines;
}
