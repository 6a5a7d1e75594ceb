import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { readMessage } from '../src/smtp/data-reader.ts';

/** The rule, byte by byte: every CR followed by LF, every LF preceded by CR; any octet above 0x7f is 8-bit. */
function reference(bytes: Buffer): { bare: boolean; eightBit: boolean } {
  let bare = false;
  let eightBit = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0d && bytes[i + 1] !== 0x0a) bare = true;
    if (b === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) bare = true;
    if (b > 0x7f) eightBit = true;
  }
  return { bare, eightBit };
}

async function readChunked(bytes: Buffer, cuts: number[]): Promise<Awaited<ReturnType<typeof readMessage>>> {
  const stream = new PassThrough();
  const result = readMessage(stream, 1 << 20);
  let at = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    stream.write(bytes.subarray(at, cut));
    at = cut;
  }
  stream.end(bytes.subarray(at));
  return result;
}

test('DATA reader: bare CR/LF and 8-bit detection agree with the byte-by-byte rule for any chunking', async () => {
  const byte = fc.constantFrom(0x0d, 0x0a, 0x41, 0x20, 0xc3, 0x7f, 0x80);
  await fc.assert(
    fc.asyncProperty(fc.array(byte, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
      const buf = Buffer.from(bytes);
      const got = await readChunked(buf, cuts);
      const want = reference(buf);
      assert.equal(got.bareLineEnding, want.bare, `bare for ${buf.toString('hex')} cut at ${cuts}`);
      assert.equal(got.eightBit, want.eightBit);
      assert.deepEqual(got.content, buf);
    }),
    { numRuns: 2000, seed: 6531 },
  );
});

test('DATA reader: a CR at the end of one chunk is judged by the first byte of the next', async () => {
  assert.equal((await readChunked(Buffer.from('a\r\nb\r\n'), [2])).bareLineEnding, false);
  assert.equal((await readChunked(Buffer.from('a\rb\r\n'), [2])).bareLineEnding, true);
  assert.equal((await readChunked(Buffer.from('a\r\nb\r'), [])).bareLineEnding, true);
});
