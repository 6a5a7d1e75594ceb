/**
 * xtext (RFC 3461 section 4): printable ASCII except "+" and "=" stands for itself; anything else is
 * "+" followed by two upper-case hex digits.
 */

const HEX = '0123456789ABCDEF';

export function encodeXtext(raw: string): string {
  let out = '';
  for (const byte of Buffer.from(raw, 'utf8')) {
    if (byte >= 33 && byte <= 126 && byte !== 0x2b && byte !== 0x3d) out += String.fromCharCode(byte);
    else out += '+' + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}

/** Decodes strictly; returns null when the text is not xtext (lower-case hex, a lone "+", "=" or a space). */
export function decodeXtext(text: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) {
      const hi = HEX.indexOf(text[i + 1] ?? 'x');
      const lo = HEX.indexOf(text[i + 2] ?? 'x');
      if (hi < 0 || lo < 0) return null;
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (c >= 33 && c <= 126 && c !== 0x3d) {
      bytes.push(c);
    } else {
      return null;
    }
  }
  return Buffer.from(bytes).toString('latin1');
}
