// LZHUF as Winlink's B2F uses it, for the benchmarks only: Okumura's LZSS (a binary search tree over a 2 KB ring
// window, 60-byte lookahead, matches of 3..60 bytes) with adaptive Huffman coding of literals and match lengths
// (Okumura/Yoshizaki 1988, as carried on by FBB, JNOS and Winlink), written from the published algorithm.
// B2 framing (FBB B2, as wl2k-go frames it): u16 CRC (little-endian) over what follows, u32 length of the
// original (little-endian), the LZHUF bit stream. The CRC is CRC-16/CCITT (polynomial 0x1021, initial 0) fed
// in FBB's augmented form: every byte, then two zero bytes.

/** Ring window (B2F: 2048; Okumura's original used 4096). */
const N = 2048;
/** Lookahead: the longest match. */
const F = 60;
/** Matches of THRESHOLD bytes or fewer are sent as literals. */
const THRESHOLD = 2;
const NIL = N;
/** Huffman alphabet: 256 literals and the match lengths THRESHOLD+1..F. */
const N_CHAR = 256 - THRESHOLD + F;
/** Nodes of the Huffman tree; R is its root. */
const T = N_CHAR * 2 - 1;
const R = T - 1;
/** When the root's count reaches this the tree is rebuilt with halved counts. */
const MAX_FREQ = 0x8000;

/**
 * The upper 5 bits of a match position (position >> 6) are sent with a fixed prefix code: 1 value of 3 bits,
 * 3 of 4, 8 of 5, 12 of 6, 24 of 7 and 16 of 8 bits (Okumura's p_len/p_code), then the low 6 bits as they are.
 */
const POSITION_CODE_COUNTS: readonly (readonly [bits: number, count: number])[] = [
  [3, 1],
  [4, 3],
  [5, 8],
  [6, 12],
  [7, 24],
  [8, 16],
];
const P_LEN = new Uint8Array(64);
const P_CODE = new Uint8Array(64);
const D_CODE = new Uint8Array(256);
const D_LEN = new Uint8Array(256);
{
  let i = 0;
  let code = 0; // canonical code, left-aligned in 8 bits
  for (const [bits, count] of POSITION_CODE_COUNTS) {
    for (let k = 0; k < count; k++, i++) {
      P_LEN[i] = bits;
      P_CODE[i] = code;
      const span = 1 << (8 - bits);
      D_CODE.fill(i, code, code + span);
      D_LEN.fill(bits, code, code + span);
      code += span;
    }
  }
}

const CRC_TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  CRC_TABLE[i] = c;
}

/** FBB's CRC16: each byte shifted in at the bottom, then two zero bytes (equal to CRC-16/XMODEM of the bytes). */
export function crc16(bytes: Uint8Array): number {
  let sum = 0;
  const step = (b: number) => {
    sum = (CRC_TABLE[(sum >> 8) & 0xff]! ^ (sum << 8) ^ b) & 0xffff;
  };
  for (const b of bytes) step(b);
  step(0);
  step(0);
  return sum;
}

/** The adaptive Huffman coder shared by both directions (Okumura's StartHuff/reconst/update). */
class AdaptiveHuffman {
  readonly freq = new Uint32Array(T + 1);
  /** Parent of each node; prnt[T + c] is the leaf of symbol c. */
  readonly prnt = new Int32Array(T + N_CHAR);
  /** son[i] is the left child (the right is son[i] + 1), or T + symbol for a leaf. */
  readonly son = new Int32Array(T);

  constructor() {
    const { freq, prnt, son } = this;
    for (let i = 0; i < N_CHAR; i++) {
      freq[i] = 1;
      son[i] = i + T;
      prnt[i + T] = i;
    }
    for (let i = 0, j = N_CHAR; j <= R; i += 2, j++) {
      freq[j] = freq[i]! + freq[i + 1]!;
      son[j] = i;
      prnt[i] = prnt[i + 1] = j;
    }
    freq[T] = 0xffff;
    prnt[R] = 0;
  }

  /** Halves the counts and rebuilds the tree, keeping nodes sorted by count. */
  private rebuild(): void {
    const { freq, prnt, son } = this;
    let j = 0;
    for (let i = 0; i < T; i++) {
      if (son[i]! >= T) {
        freq[j] = (freq[i]! + 1) >>> 1;
        son[j] = son[i]!;
        j++;
      }
    }
    for (let i = 0, j = N_CHAR; j < T; i += 2, j++) {
      const f = (freq[j] = freq[i]! + freq[i + 1]!);
      let k = j - 1;
      while (f < freq[k]!) k--;
      k++;
      freq.copyWithin(k + 1, k, j);
      freq[k] = f;
      son.copyWithin(k + 1, k, j);
      son[k] = i;
    }
    for (let i = 0; i < T; i++) {
      const k = son[i]!;
      if (k >= T) prnt[k] = i;
      else prnt[k] = prnt[k + 1] = i;
    }
  }

  /** Counts one more `c` and swaps nodes up so the tree stays ordered by count. */
  update(c: number): void {
    const { freq, prnt, son } = this;
    if (freq[R] === MAX_FREQ) this.rebuild();
    let n = prnt[c + T]!;
    do {
      const k = ++freq[n]!;
      let l = n + 1;
      if (k > freq[l]!) {
        while (k > freq[++l]!);
        l--;
        freq[n] = freq[l]!;
        freq[l] = k;
        const i = son[n]!;
        prnt[i] = l;
        if (i < T) prnt[i + 1] = l;
        const m = son[l]!;
        son[l] = i;
        prnt[m] = n;
        if (m < T) prnt[m + 1] = n;
        son[n] = m;
        n = l;
      }
      n = prnt[n]!;
    } while (n !== 0);
  }
}

/** MSB-first bit writer with Okumura's 16-bit put buffer (codes of up to 16 bits). */
class BitWriter {
  private buf = 0;
  private len = 0;
  private out = new Uint8Array(1024);
  private n = 0;
  private push(b: number): void {
    if (this.n === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.n++] = b & 0xff;
  }
  /** Writes the top `l` bits of the 16-bit `c` (Okumura's Putcode). */
  put(l: number, c: number): void {
    this.buf = (this.buf | (c >>> this.len)) & 0xffff;
    this.len += l;
    if (this.len < 8) return;
    this.push(this.buf >>> 8);
    this.len -= 8;
    if (this.len >= 8) {
      this.push(this.buf);
      this.len -= 8;
      this.buf = (c << (l - this.len)) & 0xffff;
    } else this.buf = (this.buf << 8) & 0xffff;
  }
  finish(): Uint8Array {
    if (this.len > 0) this.push(this.buf >>> 8);
    return this.out.subarray(0, this.n);
  }
}

/** LZHUF's bit stream for `input` (no length, no CRC). */
export function lzhufEncodeStream(input: Uint8Array): Uint8Array {
  const text = new Uint8Array(N + F - 1);
  const dad = new Int32Array(N + 1).fill(NIL);
  const lson = new Int32Array(N + 1).fill(NIL);
  const rson = new Int32Array(N + 257).fill(NIL);
  const huff = new AdaptiveHuffman();
  const bits = new BitWriter();
  let matchLength = 0;
  let matchPosition = 0;

  const insertNode = (r: number): void => {
    let cmp = 1;
    let p = N + 1 + text[r]!;
    rson[r] = lson[r] = NIL;
    matchLength = 0;
    for (;;) {
      if (cmp >= 0) {
        if (rson[p] !== NIL) p = rson[p]!;
        else {
          rson[p] = r;
          dad[r] = p;
          return;
        }
      } else if (lson[p] !== NIL) p = lson[p]!;
      else {
        lson[p] = r;
        dad[r] = p;
        return;
      }
      let i = 1;
      for (; i < F; i++) if ((cmp = text[r + i]! - text[p + i]!) !== 0) break;
      if (i > THRESHOLD) {
        const distance = ((r - p) & (N - 1)) - 1;
        if (i > matchLength) {
          matchPosition = distance;
          if ((matchLength = i) >= F) break;
        }
        if (i === matchLength && distance < matchPosition) matchPosition = distance;
      }
    }
    // A full-length match: r replaces p in the tree.
    dad[r] = dad[p]!;
    lson[r] = lson[p]!;
    rson[r] = rson[p]!;
    dad[lson[p]!] = r;
    dad[rson[p]!] = r;
    if (rson[dad[p]!] === p) rson[dad[p]!] = r;
    else lson[dad[p]!] = r;
    dad[p] = NIL;
  };

  const deleteNode = (p: number): void => {
    if (dad[p] === NIL) return;
    let q: number;
    if (rson[p] === NIL) q = lson[p]!;
    else if (lson[p] === NIL) q = rson[p]!;
    else {
      q = lson[p]!;
      if (rson[q] !== NIL) {
        do q = rson[q]!;
        while (rson[q] !== NIL);
        rson[dad[q]!] = lson[q]!;
        dad[lson[q]!] = dad[q]!;
        lson[q] = lson[p]!;
        dad[lson[p]!] = q;
      }
      rson[q] = rson[p]!;
      dad[rson[p]!] = q;
    }
    dad[q] = dad[p]!;
    if (rson[dad[p]!] === p) rson[dad[p]!] = q;
    else lson[dad[p]!] = q;
    dad[p] = NIL;
  };

  const encodeChar = (c: number): void => {
    let code = 0;
    let len = 0;
    let k = huff.prnt[c + T]!;
    do {
      code = (code >>> 1) | (k & 1 ? 0x8000 : 0);
      len++;
      k = huff.prnt[k]!;
    } while (k !== R);
    bits.put(len, code);
    huff.update(c);
  };

  const encodePosition = (c: number): void => {
    const i = c >>> 6;
    bits.put(P_LEN[i]!, P_CODE[i]! << 8);
    bits.put(6, (c & 0x3f) << 10);
  };

  if (input.length === 0) return new Uint8Array(0);
  let s = 0;
  let r = N - F;
  text.fill(0x20, 0, r);
  let len = 0;
  let at = 0;
  for (; len < F && at < input.length; len++) text[r + len] = input[at++]!;
  for (let i = 1; i <= F; i++) insertNode(r - i);
  insertNode(r);
  do {
    if (matchLength > len) matchLength = len;
    if (matchLength <= THRESHOLD) {
      matchLength = 1;
      encodeChar(text[r]!);
    } else {
      encodeChar(255 - THRESHOLD + matchLength);
      encodePosition(matchPosition);
    }
    const last = matchLength;
    let i = 0;
    for (; i < last && at < input.length; i++) {
      const c = input[at++]!;
      deleteNode(s);
      text[s] = c;
      if (s < F - 1) text[s + N] = c;
      s = (s + 1) & (N - 1);
      r = (r + 1) & (N - 1);
      insertNode(r);
    }
    while (i++ < last) {
      deleteNode(s);
      s = (s + 1) & (N - 1);
      r = (r + 1) & (N - 1);
      if (--len) insertNode(r);
    }
  } while (len > 0);
  return bits.finish();
}

/** Decodes `size` bytes from LZHUF's bit stream. Throws on a stream that ends early. */
export function lzhufDecodeStream(stream: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (size === 0) return out;
  const huff = new AdaptiveHuffman();
  let pos = 0;
  let bitBuf = 0;
  let bitLen = 0;
  const getBit = (): number => {
    if (bitLen === 0) {
      if (pos >= stream.length + 2) throw new Error('lzhuf: stream ends early');
      bitBuf = stream[pos++] ?? 0;
      bitLen = 8;
    }
    bitLen--;
    return (bitBuf >>> bitLen) & 1;
  };
  const getByte = (): number => {
    let b = 0;
    for (let k = 0; k < 8; k++) b = (b << 1) | getBit();
    return b;
  };
  const decodeChar = (): number => {
    let c = huff.son[R]!;
    while (c < T) c = huff.son[c + getBit()]!;
    c -= T;
    huff.update(c);
    return c;
  };
  const decodePosition = (): number => {
    let i = getByte();
    const c = D_CODE[i]! << 6;
    for (let j = D_LEN[i]! - 2; j > 0; j--) i = (i << 1) | getBit();
    return c | (i & 0x3f);
  };
  const text = new Uint8Array(N).fill(0x20);
  let r = N - F;
  let count = 0;
  while (count < size) {
    const c = decodeChar();
    if (c < 256) {
      out[count++] = c;
      text[r] = c;
      r = (r + 1) & (N - 1);
    } else {
      const from = (r - decodePosition() - 1) & (N - 1);
      const n = c - 255 + THRESHOLD;
      for (let k = 0; k < n && count < size; k++) {
        const b = text[(from + k) & (N - 1)]!;
        out[count++] = b;
        text[r] = b;
        r = (r + 1) & (N - 1);
      }
    }
  }
  if (pos > stream.length) throw new Error('lzhuf: stream ends early');
  return out;
}

/** LZHUF with its u32 little-endian length in front (FBB's B1 form, no CRC). */
export function lzhufCompress(input: Uint8Array): Uint8Array {
  const stream = lzhufEncodeStream(input);
  const out = new Uint8Array(4 + stream.length);
  new DataView(out.buffer).setUint32(0, input.length, true);
  out.set(stream, 4);
  return out;
}

/** B2 framing: u16 CRC16 (little-endian) of the length and stream, then the length and the stream. */
export function lzhufCompressB2(input: Uint8Array): Uint8Array {
  const body = lzhufCompress(input);
  const out = new Uint8Array(2 + body.length);
  new DataView(out.buffer).setUint16(0, crc16(body), true);
  out.set(body, 2);
  return out;
}

/** Reverses `lzhufCompressB2`; throws on a CRC that does not match or a stream that ends early. */
export function lzhufDecompressB2(framed: Uint8Array): Uint8Array {
  if (framed.length < 6) throw new Error('lzhuf: shorter than the B2 header');
  const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
  const body = framed.subarray(2);
  if (view.getUint16(0, true) !== crc16(body)) throw new Error('lzhuf: CRC16 does not match');
  return lzhufDecodeStream(framed.subarray(6), view.getUint32(2, true));
}
