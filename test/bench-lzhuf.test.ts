// The benchmarks' LZHUF (bench/lzhuf.ts) against wl2k-go's published vectors, byte for byte, and random round trips.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { crc16, lzhufCompressB2, lzhufDecompressB2 } from '../bench/lzhuf.ts';

const vectors = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'vectors');

test('the Gettysburg Address compresses to wl2k-go’s 861 B2-framed bytes exactly, and decompresses back', () => {
  const plain = readFileSync(path.join(vectors, 'gettysburg.txt'));
  const framed = readFileSync(path.join(vectors, 'gettysburg.txt.lzh'));
  assert.equal(plain.length, 1548);
  assert.equal(framed.length, 861);
  assert.deepEqual(Buffer.from(lzhufCompressB2(plain)), framed);
  assert.deepEqual(Buffer.from(lzhufDecompressB2(framed)), plain);
});

test('the larger wl2k-go vectors, when HFMAIL_LZHUF_VECTORS names their folder', (t) => {
  const dir = process.env.HFMAIL_LZHUF_VECTORS;
  if (!dir || !existsSync(dir)) return t.skip('HFMAIL_LZHUF_VECTORS not set (bench/vectors/README.md)');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.lzh'))) {
    const plain: Buffer = readFileSync(path.join(dir, name.slice(0, -4)));
    assert.deepEqual(Buffer.from(lzhufCompressB2(plain)), readFileSync(path.join(dir, name)), name);
  }
});

test('CRC16 is CRC-16/XMODEM', () => {
  assert.equal(crc16(new TextEncoder().encode('123456789')), 0x31c3);
});

test('random inputs round-trip, and a damaged frame fails its CRC', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 3000 }),
        // Repetitive text: long matches, matches across the window's wrap.
        fc.array(fc.constantFrom('Subject: ', 'Received: from ', 'hello ', '\r\n', 'a', 'zz', ' '), { maxLength: 1500 }).map((a) => new TextEncoder().encode(a.join(''))),
      ),
      (input) => {
        const framed = lzhufCompressB2(input);
        assert.deepEqual(lzhufDecompressB2(framed), input);
        if (framed.length > 6) {
          const bad = Uint8Array.from(framed);
          bad[framed.length - 1]! ^= 1;
          assert.throws(() => lzhufDecompressB2(bad), /CRC16/);
        }
      },
    ),
    { numRuns: 150, seed: 11 },
  );
});

test('a long input rebuilds the Huffman tree (over 32k symbols) and still round-trips', () => {
  let x = 12345;
  const input = new Uint8Array(120_000).map(() => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24) % 7 === 0 ? 0x41 + (x % 26) : 0x20 + ((x >>> 8) % 4));
  assert.deepEqual(lzhufDecompressB2(lzhufCompressB2(input)), input);
});
