import net from 'node:net';
import tls from 'node:tls';

/** A line-level SMTP test client: sends exactly what a test says and returns replies as they come. */
export class RawSmtp {
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawSmtp> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawSmtp(socket);
    await client.reply(); // greeting
    return client;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Whether a complete reply has arrived and not been read yet (to prove that none came, after virtual time moved). */
  hasReply(): boolean {
    return /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.test(this.buffer);
  }

  /** The next complete reply (all its lines), e.g. "250-a\r\n250 b". */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no reply; pending: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** STARTTLS and the TLS handshake (any certificate); returns the 220 reply. */
  async starttls(): Promise<string> {
    const r = await this.cmd('STARTTLS');
    if (!r.startsWith('220')) return r;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.listen(secure);
    return r;
  }

  /** Sends one command line and returns its reply. */
  async cmd(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.reply();
  }

  async ehlo(name = 'client.example'): Promise<string> {
    return this.cmd(`EHLO ${name}`);
  }

  /** DATA with already dot-stuffed content that ends with CRLF; returns the final reply. */
  async data(content: string | Buffer): Promise<string> {
    const r = await this.cmd('DATA');
    if (!r.startsWith('354')) return r;
    // One write: a separate small ".\r\n" would wait ~40 ms for a delayed ACK (Nagle).
    this.write(Buffer.concat([Buffer.from(content as string | Buffer), Buffer.from('.\r\n')]));
    return this.reply();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      this.write('QUIT\r\n');
      this.socket.end();
    }
  }
}
