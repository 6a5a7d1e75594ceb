import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Gateway, validateConfig } from '../../src/gateway/index.ts';
import { Rng } from './rng.ts';

/** A tracked message: its tag, the bytes sent (after dot-unstuffing) and the id the 250 named. */
interface Accepted {
  readonly tag: string;
  readonly content: Buffer;
  readonly id: string;
  readonly session: number;
}

export interface SmtpFuzzResult {
  readonly seed: number;
  readonly sessions: number;
  readonly commands: number;
  readonly replies: number;
  readonly accepted: number;
  readonly ms: number;
  readonly failure?: { readonly session: number; readonly error: string; readonly transcript: string };
}

class SessionFailure extends Error {}

/** Reads replies off a socket and checks each line's form (RFC 5321 4.2: code, '-' or ' ', text, CRLF, <= 512). */
class ReplyReader {
  private buf = Buffer.alloc(0);
  private lines: string[] = [];
  readonly replies: { code: number; text: string }[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  problem?: string;

  constructor(sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (let at = this.buf.indexOf('\r\n'); at >= 0; at = this.buf.indexOf('\r\n')) {
        const line = this.buf.subarray(0, at).toString('latin1');
        this.buf = this.buf.subarray(at + 2);
        this.line(line);
      }
      if (this.buf.length > 512) this.problem ??= `a reply line longer than 512 bytes: ${JSON.stringify(this.buf.subarray(0, 80).toString('latin1'))}...`;
      this.wake();
    });
    const end = () => {
      this.closed = true;
      if (this.buf.length) this.problem ??= `the connection ended inside a reply line: ${JSON.stringify(this.buf.toString('latin1'))}`;
      this.wake();
    };
    sock.on('close', end);
    sock.on('error', () => undefined);
  }

  private line(line: string): void {
    const m = /^([2-5][0-5]\d)([ -])(.*)$/.exec(line) ?? /^([2-5][0-5]\d)()()$/.exec(line);
    if (!m || line.length > 510 || /[\r\n\0]/.test(line)) {
      this.problem ??= `a malformed reply line: ${JSON.stringify(line)}`;
      return;
    }
    if (this.lines.length && !this.lines[0]!.startsWith(m[1]!)) this.problem ??= `a multi-line reply changes its code: ${JSON.stringify([...this.lines, line])}`;
    this.lines.push(line);
    if (m[2] !== '-') {
      this.replies.push({ code: Number(m[1]), text: this.lines.map((l) => l.slice(4)).join('\n') });
      this.lines = [];
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `n` replies have come (or the connection closed, or `ms` passed); returns whether they came. */
  async until(n: number, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.replies.length < n && !this.closed && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, end - Date.now()));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    return this.replies.length >= n;
  }
}

const NASTY_LINES = [
  '',
  ' ',
  'HELO',
  'EHLO',
  'MAIL FROM:',
  'MAIL FROM:<>',
  'RCPT TO:<>',
  'RCPT TO:<postmaster>',
  'DATA',
  'BDAT 10 LAST',
  'RSET',
  'NOOP',
  'VRFY root',
  'EXPN list',
  'HELP',
  'STARTTLS',
  'AUTH PLAIN',
  'AUTH LOGIN',
  'AUTH PLAIN AG9wcwBzZWNyZXQ=',
  '*',
  'QUIT ',
  'MAIL FROM:<a@b> SIZE=99999999999999',
  'MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=+0D+0A',
  'MAIL FROM:<a@b> BY=0;R',
  'MAIL FROM:<a@b> MT-PRIORITY=9 PRIORITY=99',
  'RCPT TO:<x@base.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+0D+0AX-Evil:+201@base.example',
  'RCPT TO:<x@base.example> ARCPT=rfc822;y@base.example',
  'MAIL FROM:<jörg@bücher.example> SMTPUTF8',
];

function piece(rng: Rng): Buffer {
  switch (rng.int(9)) {
    case 0:
      return Buffer.from(rng.pick(NASTY_LINES), 'utf8');
    case 1:
      return Buffer.alloc(rng.pick([513, 1001, 4097, 70_000]), rng.pick(['A', '.', ' ']).charCodeAt(0)); // overlong
    case 2:
      return Buffer.from(`${rng.pick(NASTY_LINES)}\0${rng.pick(NASTY_LINES)}`); // NUL
    case 3:
      return Buffer.from(`${rng.pick(NASTY_LINES)}${rng.pick(['\r', '\n'])}${rng.pick(NASTY_LINES)}`); // bare CR or LF
    case 4:
      return Buffer.concat([Buffer.from(rng.pick(['MAIL FROM:<', 'RCPT TO:<', 'EHLO ', 'HELO '])), Buffer.from(rng.bytes(rng.size(40)).map((b) => (b === 10 || b === 13 ? 0xc3 : b | 0x80))), Buffer.from('>')]); // invalid UTF-8
    case 5:
      return Buffer.from(rng.bytes(rng.size(100)));
    default:
      return Buffer.from(rng.pick(NASTY_LINES), 'utf8');
  }
}

/** A message body of printable lines, some starting with '.', some long, optionally 8-bit. */
function body(rng: Rng, tag: string, eightBit: boolean): Buffer {
  const lines = [`Subject: fuzz ${tag}`, `X-Fuzz-Tag: ${tag}`, 'From: a@field.example', ''];
  for (let i = rng.size(60); i > 0; i--) {
    let l = '';
    for (let j = rng.size(rng.chance(0.05) ? 990 : 80); j > 0; j--) l += String.fromCharCode(eightBit && rng.chance(0.05) ? 0xa0 + rng.int(90) : 0x20 + rng.int(95));
    if (rng.chance(0.1)) l = '.' + l.slice(0, 900);
    lines.push(l);
  }
  return Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
}

function dotStuff(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/^\./gm, '..'), 'latin1');
}

/**
 * The SMTP front end of a real gateway on a loopback port, with its queue in a temporary folder, under random
 * sessions for `ms`: clean transactions (random parameters, dot-stuffed bodies, 8-bit, many recipients) whose
 * 250 is tracked, and hostile ones (pipelined floods, overlong lines, NUL, bare CR or LF, invalid UTF-8, thousands
 * of RCPTs, garbage). Oracle: every reply line is well formed, the process never crashes (an uncaught error
 * fails the run), and every message that got 250 is in the queue exactly once with its bytes intact.
 */
export async function runSmtp(seed: number, ms: number, opts: { concurrency?: number; log?: (s: string) => void } = {}): Promise<SmtpFuzzResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-fuzz-smtp-'));
  const config = validateConfig(
    {
      station: 'bravo',
      hostname: 'bravo.base.example',
      listen: '127.0.0.1:0',
      data: path.join(dir, 'data'),
      routes: [{ domains: ['*'], via: 'link:alpha' }],
      queue: { minFreeBytes: 0 },
      limits: { maxMessageSize: 1024 * 1024, maxRecipients: 100, maxReceived: 100, maxConnections: 200, maxConnectionsPerClient: 64, maxDataBytesInMemory: 64 * 1024 * 1024 },
    },
    'fuzz',
  );
  const gateway = new Gateway({ config, log: pino({ level: 'silent' }), baseDir: dir });
  const { port } = await gateway.start();
  const accepted: Accepted[] = [];
  const counts = { sessions: 0, commands: 0, replies: 0 };
  let failure: SmtpFuzzResult['failure'];
  let crashed: unknown;
  const onCrash = (err: unknown) => (crashed ??= err);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const start = Date.now();
  let next = 0;

  const session = async (n: number): Promise<void> => {
    const rng = new Rng(seed, n);
    const transcript: string[] = [];
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    const r = new ReplyReader(sock);
    const send = (b: Buffer | string) => {
      const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
      transcript.push(`> ${JSON.stringify(buf.subarray(0, 200).toString('latin1'))}${buf.length > 200 ? ` (${buf.length} bytes)` : ''}`);
      counts.commands++;
      if (!sock.destroyed) sock.write(buf);
    };
    const expect = async (k: number, ms = 15_000) => (await r.until(k, ms)) || r.closed;
    try {
      await new Promise<void>((resolve, reject) => (sock.once('connect', resolve), sock.once('error', reject)));
      if (!(await expect(1))) throw new SessionFailure('no greeting within 15 s');
      if (rng.chance(0.4)) {
        // Clean transactions, each tracked.
        send(`EHLO fuzz${n}.example\r\n`);
        await expect(r.replies.length + 1);
        for (let t = rng.int(3); t >= 0 && !r.closed; t--) {
          const tag = `${seed}-${n}-${t}`;
          const eightBit = rng.chance(0.3);
          const params = [eightBit ? 'BODY=8BITMIME' : '', rng.chance(0.3) ? `MT-PRIORITY=${rng.range(-9, 9)}` : '', rng.chance(0.3) ? `ENVID=T${n}` : '', rng.chance(0.2) ? 'RET=HDRS' : ''].filter(Boolean).join(' ');
          const seen = r.replies.length;
          send(`MAIL FROM:<s${n}@field.example>${params ? ' ' + params : ''}\r\n`);
          const nr = 1 + rng.size(rng.chance(0.05) ? 120 : 4);
          for (let i = 0; i < nr; i++) send(`RCPT TO:<r${i}@base.example>${rng.chance(0.3) ? ' NOTIFY=FAILURE' : ''}\r\n`);
          send('DATA\r\n');
          if (!(await expect(seen + nr + 2))) throw new SessionFailure(`no answer to MAIL, ${nr} RCPTs and DATA within 15 s`);
          const dataReply = r.replies[seen + nr + 1];
          if (dataReply?.code !== 354) {
            send('RSET\r\n');
            await expect(r.replies.length + 1);
            continue;
          }
          const content = body(rng, tag, eightBit);
          const stuffed = dotStuff(content);
          // The body in pieces, as a slow client sends it.
          for (let at = 0; at < stuffed.length; ) {
            const len = 1 + rng.size(4096);
            send(stuffed.subarray(at, at + len));
            at += len;
          }
          send('.\r\n');
          if (!(await expect(seen + nr + 3, 30_000))) throw new SessionFailure('no answer to the end of DATA within 30 s');
          const end = r.replies[seen + nr + 2]!;
          if (end.code === 250) {
            const id = /queued as (\S+)/.exec(end.text)?.[1];
            if (!id) throw new SessionFailure(`250 after DATA without a queue id: ${end.text}`);
            accepted.push({ tag, content, id, session: n });
          } else if (end.code < 400) throw new SessionFailure(`${end.code} after DATA`);
        }
        send('QUIT\r\n');
        await expect(r.replies.length + 1, 2000);
      } else {
        // Hostile: pipelined bursts of anything; only the form of the replies and the server's life are judged.
        if (rng.chance(0.7)) send(`EHLO x\r\n`);
        for (let burst = rng.int(4); burst >= 0 && !r.closed; burst--) {
          const parts: Buffer[] = [];
          const flood = rng.chance(0.05);
          const count = flood ? 2000 + rng.int(3000) : 1 + rng.size(30);
          if (flood) parts.push(Buffer.from('MAIL FROM:<f@field.example>\r\n'));
          for (let i = 0; i < count; i++) parts.push(flood ? Buffer.from(`RCPT TO:<r${i}@base.example>\r\n`) : Buffer.concat([piece(rng), Buffer.from(rng.chance(0.9) ? '\r\n' : rng.pick(['\n', '\r', '']))]));
          send(Buffer.concat(parts));
          await r.until(Number.MAX_SAFE_INTEGER, rng.chance(0.5) ? 10 : 100);
        }
        if (rng.chance(0.5)) send('\r\n.\r\nQUIT\r\n');
        await r.until(Number.MAX_SAFE_INTEGER, 50);
      }
      if (r.problem) throw new SessionFailure(r.problem);
    } catch (err) {
      if (!(err instanceof SessionFailure) && !r.problem) {
        // A refused or reset connection is the server's right (limits); a broken reply is not.
        if (!['ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      } else failure ??= { session: n, error: r.problem ?? (err as Error).message, transcript: [...transcript, ...r.replies.map((x) => `< ${x.code} ${x.text.slice(0, 200)}`)].slice(-60).join('\n') };
    } finally {
      counts.replies += r.replies.length;
      counts.sessions++;
      sock.destroy();
    }
  };

  const worker = async () => {
    while (!failure && !crashed && Date.now() - start < ms) await session(next++);
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
    if (crashed) failure ??= { session: next - 1, error: `the process would have crashed: ${(crashed as Error)?.stack ?? String(crashed)}`, transcript: '' };
    // Every 250 is stored once, intact.
    if (!failure) {
      const store = gateway.store;
      const byTag = new Map<string, number>();
      for (const m of store.list()) {
        const content = store.get(m.id)!.content;
        const tag = /X-Fuzz-Tag: (\S+)/.exec(Buffer.from(content).toString('latin1'))?.[1];
        if (tag) byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
      }
      for (const a of accepted) {
        const m = store.get(a.id);
        const stored = m && Buffer.from(m.content);
        if (!stored || !stored.subarray(stored.length - a.content.length).equals(a.content)) {
          failure = { session: a.session, error: `message ${a.tag} got 250 as ${a.id} but is ${stored ? 'not intact' : 'not stored'}`, transcript: '' };
          break;
        }
        if (byTag.get(a.tag) !== 1) {
          failure = { session: a.session, error: `message ${a.tag} is stored ${byTag.get(a.tag) ?? 0} times`, transcript: '' };
          break;
        }
      }
    }
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed, ...counts, accepted: accepted.length, ms: Date.now() - start, ...(failure ? { failure } : {}) };
}
