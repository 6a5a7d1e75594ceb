import { parseMtPriority } from './priority-value.ts';

/** Where the header section ends: the offset just after the first empty line, or the content's length. */
export function headerEnd(content: Uint8Array): number {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (buf.subarray(0, 2).toString('latin1') === '\r\n') return 2;
  const at = buf.indexOf('\r\n\r\n');
  return at < 0 ? buf.length : at + 4;
}

/** Header fields, unfolded, as [name, value] pairs in order. Obsolete or broken lines are skipped. */
export function headerFields(content: Uint8Array): [string, string][] {
  const text = Buffer.from(content.buffer, content.byteOffset, headerEnd(content)).toString('latin1');
  const fields: [string, string][] = [];
  for (const line of text.split('\r\n')) {
    if (line === '') break;
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last[1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** RFC 5321 6.3 loop detection counts Received: fields. */
export function countReceived(fields: readonly [string, string][]): number {
  return fields.filter(([name]) => name.toLowerCase() === 'received').length;
}

/** Values of every MT-Priority: field (RFC 6758 section 4), null where one is not a valid priority-value. */
export function mtPriorityHeaderValues(fields: readonly [string, string][]): (number | null)[] {
  return fields
    .filter(([name]) => name.toLowerCase() === 'mt-priority')
    .map(([, value]) => {
      const bare = stripComments(value);
      return bare === null ? null : parseMtPriority(bare.trim());
    });
}

/** Removes RFC 5322 3.2.2 comments, which nest and may hold quoted pairs; null when unbalanced. */
export function stripComments(value: string): string | null {
  let out = '';
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && depth > 0) i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (--depth < 0) return null;
      out += ' ';
    } else if (depth === 0) out += c;
  }
  return depth === 0 ? out : null;
}

/**
 * The content with every MT-Priority: field (folded lines included) replaced by one carrying `value`, where the
 * first one stood; the rest of the bytes are untouched. Content without such a field is returned as it is.
 */
export function replaceMtPriority(content: Uint8Array, value: number): Buffer {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const end = headerEnd(buf);
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split(/\r\n(?![ \t])/);
  let placed = false;
  const kept: string[] = [];
  for (const line of lines) {
    if (!/^mt-priority[ \t]*:/i.test(line)) kept.push(line);
    else if (!placed) {
      kept.push(`MT-Priority: ${value}`);
      placed = true;
    }
  }
  if (!placed) return buf;
  return Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), buf.subarray(end)]);
}
