/** Little helpers to build and read binary frames; the reader returns null instead of reading past the end. */
/** Crockford base32, as queue ids use it (src/core/message-id.ts). */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PACKABLE_ID = /^[0-9A-HJKMNP-TV-Z]{20}$/;
const PACKED_ID_BYTES = 13;

export class ByteWriter {
  private parts: number[] = [];

  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.u8(v >> 8).u8(v);
  }

  /** Unsigned LEB128, for lengths and offsets (1 byte below 128). */
  varint(v: number): this {
    let n = v;
    while (n >= 0x80) {
      this.u8((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    return this.u8(n);
  }

  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }

  /** Length-prefixed bytes. */
  blob(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  text(s: string): this {
    return this.blob(Buffer.from(s, 'utf8'));
  }
  /**
   * A message id: a queue id of ours (20 characters of Crockford base32) packed into 13 bytes after a zero
   * length; any other id as text. An empty id cannot be written (zero means packed).
   */
  messageId(id: string): this {
    if (id === '') throw new RangeError('an empty message id');
    if (!PACKABLE_ID.test(id)) return this.text(id);
    const out = new Uint8Array(PACKED_ID_BYTES);
    let acc = 0;
    let bits = 0;
    let at = 0;
    for (const ch of id) {
      acc = (acc << 5) | CROCKFORD.indexOf(ch);
      bits += 5;
      while (bits >= 8) {
        bits -= 8;
        out[at++] = (acc >> bits) & 0xff;
      }
      acc &= (1 << bits) - 1;
    }
    out[at] = (acc << (8 - bits)) & 0xff; // 100 bits: the last 4 are zero
    return this.u8(0).bytes(out);
  }


  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ByteReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number | null {
    return this.pos < this.buf.length ? this.buf[this.pos++]! : null;
  }

  u16(): number | null {
    const hi = this.u8();
    const lo = this.u8();
    return hi === null || lo === null ? null : (hi << 8) | lo;
  }

  /** At most 7 bytes (49 bits): larger values are refused rather than losing precision. */
  varint(): number | null {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.u8();
      if (b === null) return null;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    return null;
  }

  bytes(n: number): Uint8Array | null {
    if (n < 0 || this.pos + n > this.buf.length) return null;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  blob(max: number): Uint8Array | null {
    const n = this.varint();
    return n === null || n > max ? null : this.bytes(n);
  }

  /** A message id as `messageId` writes it; null when malformed (a packed id's last 4 bits must be zero). */
  messageId(max: number): string | null {
    const at = this.pos;
    const n = this.varint();
    if (n === null) return null;
    if (n !== 0) {
      this.pos = at;
      return this.text(max);
    }
    const b = this.bytes(PACKED_ID_BYTES);
    if (!b || (b[PACKED_ID_BYTES - 1]! & 0x0f) !== 0) return null;
    let id = '';
    let acc = 0;
    let bits = 0;
    for (const byte of b) {
      acc = (acc << 8) | byte;
      bits += 8;
      while (bits >= 5 && id.length < 20) {
        bits -= 5;
        id += CROCKFORD[(acc >> bits) & 31];
      }
      acc &= (1 << bits) - 1;
    }
    return id;
  }

  /** A length-prefixed UTF-8 string; null when it is not valid UTF-8 (a replacement character would change it). */
  text(max: number): string | null {
    const b = this.blob(max);
    if (b === null) return null;
    try {
      return UTF8.decode(b);
    } catch {
      return null;
    }
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining)!;
  }
}
