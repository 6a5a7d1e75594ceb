import { isAscii } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { BudgetHolder } from './memory-budget.ts';

export interface ReadMessage {
  readonly content: Buffer;
  /** Total bytes the client sent, even past the limit (then `content` is truncated and must not be stored). */
  readonly size: number;
  readonly bareLineEnding: boolean;
  readonly eightBit: boolean;
  /** The shared memory budget ran out while buffering: `content` is incomplete and must not be stored. */
  readonly overBudget: boolean;
}

/**
 * Collects the DATA stream up to `limit` bytes, noting a CR or LF that is not part of CRLF (RFC 5321 2.3.8; the
 * "SMTP smuggling" class of bugs) and any 8-bit octet. Resolves only on a complete message: a client that drops
 * mid-DATA destroys the stream, which rejects, so nothing partial can be stored.
 */
export function readMessage(stream: Readable, limit: number, budget?: BudgetHolder): Promise<ReadMessage> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let bare = false;
    let eightBit = false;
    let overBudget = false;
    let prev = 0x0a; // as if after a line end
    stream.on('data', (chunk: Buffer) => {
      // indexOf and isAscii run in native code: a byte loop here was a tenth of the gateway's CPU at ingest.
      if (!eightBit && !isAscii(chunk)) eightBit = true;
      if (!bare && chunk.length > 0) bare = hasBareLineEnding(chunk, prev);
      if (chunk.length > 0) prev = chunk[chunk.length - 1]!;
      // Past the size limit or the budget, bytes are counted but not kept: the client still gets its answer after the dot.
      if (size + chunk.length <= limit && !overBudget) {
        if (!budget || budget.take(chunk.length)) chunks.push(chunk);
        else {
          overBudget = true;
          chunks.length = 0;
          budget.release();
        }
      }
      size += chunk.length;
    });
    stream.once('end', () => {
      if (prev === 0x0d) bare = true;
      resolve({ content: Buffer.concat(chunks), size, bareLineEnding: bare, eightBit, overBudget });
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('client went away during DATA')));
  });
}

/** A CR not followed by LF or an LF not preceded by CR in `chunk`, given the byte before it; a CR at its end is judged with the next chunk. */
function hasBareLineEnding(chunk: Buffer, prev: number): boolean {
  if (prev === 0x0d && chunk[0] !== 0x0a) return true;
  for (let i = chunk.indexOf(0x0d); i >= 0 && i < chunk.length - 1; i = chunk.indexOf(0x0d, i + 1)) if (chunk[i + 1] !== 0x0a) return true;
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) if ((i === 0 ? prev : chunk[i - 1]) !== 0x0d) return true;
  return false;
}
