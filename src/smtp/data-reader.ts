import type { Readable } from 'node:stream';

export interface ReadMessage {
  readonly content: Buffer;
  /** Total bytes the client sent, even past the limit (then `content` is truncated and must not be stored). */
  readonly size: number;
  readonly bareLineEnding: boolean;
  readonly eightBit: boolean;
}

/**
 * Collects the DATA stream up to `limit` bytes, noting a CR or LF that is not part of CRLF (RFC 5321 2.3.8; the
 * "SMTP smuggling" class of bugs) and any 8-bit octet. Resolves only on a complete message: a client that drops
 * mid-DATA destroys the stream, which rejects, so nothing partial can be stored.
 */
export function readMessage(stream: Readable, limit: number): Promise<ReadMessage> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let bare = false;
    let eightBit = false;
    let prev = 0x0a; // as if after a line end
    stream.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === 0x0a && prev !== 0x0d) bare = true;
        if (prev === 0x0d && b !== 0x0a) bare = true;
        if (b > 0x7f) eightBit = true;
        prev = b;
      }
      if (size + chunk.length <= limit) chunks.push(chunk);
      size += chunk.length;
    });
    stream.once('end', () => {
      if (prev === 0x0d) bare = true;
      resolve({ content: Buffer.concat(chunks), size, bareLineEnding: bare, eightBit });
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('client went away during DATA')));
  });
}
