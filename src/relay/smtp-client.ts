import net from 'node:net';
import tls from 'node:tls';

/** A reply from the remote server: code, enhanced code (when given) and text (lines joined with CRLF). */
export interface Reply {
  readonly code: number;
  readonly enhanced?: string;
  readonly text: string;
}

/** EHLO keywords, upper case, with their arguments (RFC 5321 4.1.1.1). */
export type Capabilities = ReadonlyMap<string, string>;

export interface Timeouts {
  readonly connectMs: number;
  readonly greetingMs: number;
  readonly commandMs: number;
  readonly dataBlockMs: number;
  readonly dataEndMs: number;
}

/** RFC 5321 4.5.3.2 minimums; a configuration may shorten them (radio stations rarely wait 10 minutes). */
export const RFC5321_TIMEOUTS: Timeouts = { connectMs: 60_000, greetingMs: 300_000, commandMs: 300_000, dataBlockMs: 180_000, dataEndMs: 600_000 };

export type ClientFailure =
  | { readonly kind: 'connect'; readonly detail: string }
  | { readonly kind: 'timeout'; readonly phase: string }
  | { readonly kind: 'closed'; readonly phase: string }
  | { readonly kind: 'tls'; readonly detail: string };

export class SmtpClientError extends Error {
  constructor(readonly failure: ClientFailure) {
    super(failure.kind === 'connect' || failure.kind === 'tls' ? `${failure.kind}: ${failure.detail}` : `${failure.kind} during ${failure.phase}`);
  }
}

export interface Envelope {
  readonly from: string;
  readonly mailParams: readonly string[];
  readonly recipients: readonly { readonly address: string; readonly params: readonly string[] }[];
}

export interface TransactionResult {
  readonly mail: Reply;
  /** One reply per recipient, in order. */
  readonly rcpt: readonly Reply[];
  /** The reply to the end of data; absent when no recipient was accepted or MAIL was refused. */
  readonly data?: Reply;
  /** LMTP: the reply to the end of data for each recipient, in order (undefined for refused ones). */
  readonly perRecipientData?: readonly (Reply | undefined)[];
}

/**
 * A small SMTP client that sends any MAIL and RCPT parameters per recipient (no npm client can, see
 * notes), pipelines when the server offers PIPELINING, and reports every reply as a value.
 */
export class SmtpClient {
  private socket!: net.Socket;
  private buffer = '';
  private waiting: ((r: Reply | ClientFailure) => void)[] = [];
  private closedWith?: ClientFailure;
  /** The TLS handshake failed: the socket is gone, nothing more is said on it. */
  private secureFailed = false;
  capabilities: Capabilities = new Map();
  greeting?: Reply;
  secure = false;
  /** LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the data. */
  lmtp = false;

  private constructor(
    private readonly host: string,
    private readonly timeouts: Timeouts,
  ) {}

  /** Connects, reads the greeting and says EHLO (HELO if EHLO is refused); STARTTLS when offered, if asked. */
  static async open(opts: { host: string; port: number; helo: string; timeouts?: Partial<Timeouts>; starttls?: 'off' | 'opportunistic' | 'required'; lmtp?: boolean }): Promise<SmtpClient> {
    const c = new SmtpClient(opts.host, { ...RFC5321_TIMEOUTS, ...opts.timeouts });
    c.lmtp = opts.lmtp ?? false;
    await c.connect(opts.port);
    try {
      c.greeting = await c.read('greeting', c.timeouts.greetingMs);
      if (c.greeting.code !== 220) throw new SmtpClientError({ kind: 'connect', detail: `greeting ${c.greeting.code} ${c.greeting.text}` });
      await c.hello(opts.helo);
      const mode = opts.starttls ?? 'opportunistic';
      if (mode !== 'off' && c.capabilities.has('STARTTLS')) {
        const r = await c.command('STARTTLS', 'STARTTLS');
        if (r.code === 220) {
          await c.upgrade();
          await c.hello(opts.helo);
        } else if (mode === 'required') throw new SmtpClientError({ kind: 'tls', detail: `STARTTLS refused: ${r.code} ${r.text}` });
      } else if (mode === 'required') throw new SmtpClientError({ kind: 'tls', detail: 'the server does not offer STARTTLS' });
      return c;
    } catch (err) {
      // Nobody gets the client: the session ends here, politely when the server still listens (RFC 5321 4.1.1.10).
      await c.abandon();
      throw err;
    }
  }

  /** Ends a session that failed to open: QUIT when the dialogue is still in step, then the socket goes. */
  private async abandon(): Promise<void> {
    if (!this.closedWith && !this.waiting.length && !this.secureFailed && !this.socket.destroyed) await this.command('QUIT', 'QUIT', 2000).catch(() => undefined);
    this.destroy();
  }

  private connect(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SmtpClientError({ kind: 'timeout', phase: 'connect' }));
      }, this.timeouts.connectMs);
      s.once('connect', () => {
        clearTimeout(timer);
        this.attach(s);
        resolve();
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new SmtpClientError({ kind: 'connect', detail: (err as NodeJS.ErrnoException).code ?? err.message }));
      });
    });
  }

  private attach(s: net.Socket): void {
    this.socket = s;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.buffer += d;
      this.drain();
    });
    const closed = () => {
      this.closedWith = { kind: 'closed', phase: 'session' };
      for (const w of this.waiting.splice(0)) w(this.closedWith);
    };
    s.on('close', closed);
    s.on('error', () => undefined); // 'close' follows
  }

  private upgrade(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.removeAllListeners('data');
      this.socket.removeAllListeners('close');
      const secure = tls.connect({ socket: this.socket, servername: net.isIP(this.host) ? undefined : this.host, rejectUnauthorized: false });
      const timer = setTimeout(() => secure.destroy(new Error('TLS handshake timed out')), this.timeouts.commandMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        this.secure = true;
        this.buffer = '';
        this.attach(secure);
        resolve();
      });
      secure.once('error', (err) => {
        clearTimeout(timer);
        this.secureFailed = true;
        secure.destroy();
        this.socket.destroy();
        reject(new SmtpClientError({ kind: 'tls', detail: err.message }));
      });
    });
  }

  /** Complete replies are parsed off the buffer and handed to waiting readers in order. */
  private drain(): void {
    for (;;) {
      const m = /^((?:\d{3}-[^\r\n]*\r?\n)*)(\d{3})(?: ([^\r\n]*))?\r?\n/.exec(this.buffer);
      if (!m || !this.waiting.length) return;
      this.buffer = this.buffer.slice(m[0].length);
      const lines = [...m[1]!.split(/\r?\n/).filter(Boolean).map((l) => l.slice(4)), m[3] ?? ''];
      const enh = /^([245]\.\d{1,3}\.\d{1,3}) /.exec(lines[0] ?? '');
      const reply: Reply = { code: Number(m[2]), ...(enh ? { enhanced: enh[1] } : {}), text: lines.join('\r\n') };
      this.waiting.shift()!(reply);
    }
  }

  private read(phase: string, ms: number): Promise<Reply> {
    if (this.closedWith) return Promise.reject(new SmtpClientError({ kind: 'closed', phase }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        reject(new SmtpClientError({ kind: 'timeout', phase }));
      }, ms);
      this.waiting.push((r) => {
        clearTimeout(timer);
        if ('kind' in r) reject(new SmtpClientError({ ...r, phase } as ClientFailure));
        else resolve(r);
      });
      this.drain();
    });
  }

  private command(line: string, phase: string, ms = this.timeouts.commandMs): Promise<Reply> {
    this.socket.write(line + '\r\n');
    return this.read(phase, ms);
  }

  private async hello(name: string): Promise<void> {
    let r = await this.command(`${this.lmtp ? 'LHLO' : 'EHLO'} ${name}`, 'EHLO');
    const caps = new Map<string, string>();
    if (r.code !== 250) {
      r = await this.command(`HELO ${name}`, 'HELO');
      if (r.code !== 250) throw new SmtpClientError({ kind: 'connect', detail: `HELO refused: ${r.code} ${r.text}` });
    } else {
      // Keywords and arguments, leniently: one server says "MT-PRIORITY MIXER STANAG4406 NSEP".
      for (const line of r.text.split('\r\n').slice(1)) {
        const [kw, ...args] = line.trim().split(/\s+/);
        if (kw) caps.set(kw.toUpperCase(), args.join(' '));
      }
    }
    this.capabilities = caps;
  }

  /** One mail transaction; the content is unstuffed, with CRLF line ends; dot-stuffing happens here. */
  async send(env: Envelope, content: Uint8Array): Promise<TransactionResult> {
    const mailLine = `MAIL FROM:<${env.from}>${env.mailParams.map((p) => ' ' + p).join('')}`;
    const rcptLines = env.recipients.map((r) => `RCPT TO:<${r.address}>${r.params.map((p) => ' ' + p).join('')}`);
    let mail: Reply;
    const rcpt: Reply[] = [];
    if (this.capabilities.has('PIPELINING')) {
      // RFC 2920: MAIL and RCPTs in one batch, replies matched by position.
      this.socket.write([mailLine, ...rcptLines].map((l) => l + '\r\n').join(''));
      mail = await this.read('MAIL', this.timeouts.commandMs);
      for (let i = 0; i < rcptLines.length; i++) rcpt.push(await this.read('RCPT', this.timeouts.commandMs));
    } else {
      mail = await this.command(mailLine, 'MAIL');
      if (mail.code !== 250) return { mail, rcpt: rcptLines.map(() => mail) };
      for (const l of rcptLines) rcpt.push(await this.command(l, 'RCPT'));
    }
    if (mail.code !== 250 || !rcpt.some((r) => r.code === 250 || r.code === 251)) {
      await this.command('RSET', 'RSET').catch(() => undefined);
      return { mail, rcpt };
    }
    const go = await this.command('DATA', 'DATA', this.timeouts.commandMs);
    if (go.code !== 354) return { mail, rcpt, data: go };
    this.socket.write(dotStuff(content));
    const data = await this.command('.', 'end of data', this.timeouts.dataEndMs);
    if (!this.lmtp) return { mail, rcpt, data };
    const per: (Reply | undefined)[] = [];
    let first = true;
    for (const r of rcpt) {
      if (r.code !== 250 && r.code !== 251) per.push(undefined);
      else if (first) {
        per.push(data);
        first = false;
      } else per.push(await this.read('end of data', this.timeouts.dataEndMs));
    }
    return { mail, rcpt, data, perRecipientData: per };
  }

  async quit(): Promise<void> {
    if (this.closedWith) return;
    await this.command('QUIT', 'QUIT', 10_000).catch(() => undefined);
    this.socket.destroy();
  }

  destroy(): void {
    this.socket?.destroy();
  }
}

/** RFC 5321 4.5.2: a line starting with "." gets one more; the content must end with CRLF. */
export function dotStuff(content: Uint8Array): Buffer {
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
  const stuffed = (text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..');
  return Buffer.from(stuffed.endsWith('\r\n') ? stuffed : stuffed + '\r\n', 'latin1');
}
