// The chaos campaign's third station: an SMTP peer in the campaign's own process that records every message it
// accepts (envelope and exact bytes), accepts some domains, refuses some recipients for good and defers others
// for ever. It advertises
// DSN and DELIVERBY (so hfmail hands those on and owes no "relayed" notices) but not ALTRECIP (so hfmail keeps the
// alternate recipient itself and redirects on a 5xx) and not MT-PRIORITY (so the priority is tunnelled in a header).
import net from 'node:net';

export interface PeerRecipient {
  readonly address: string;
  readonly params: string;
}

export interface PeerTransaction {
  readonly from: string;
  readonly mailParams: string;
  readonly recipients: readonly PeerRecipient[];
  /** The message as it would be stored: dot-unstuffed, CRLF line ends, ending with CRLF. */
  readonly content: Buffer;
  readonly at: number;
}

export interface NextHopOptions {
  /** Domains this hop takes mail for; any other gets 550 5.1.2. */
  readonly domains: readonly string[];
  /** Local parts starting with this are refused with 550 5.1.1. */
  readonly refusePrefix: string;
  /** Local parts starting with this are deferred with 451 4.3.0, every time. */
  readonly deferPrefix: string;
}

export interface NextHop {
  readonly port: number;
  readonly transactions: PeerTransaction[];
  /** Every command line it was sent (for post-mortems). */
  readonly lines: string[];
  close(): Promise<void>;
}

const EHLO_KEYWORDS = ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', 'DELIVERBY', 'SIZE 52428800'];

/** What the hop answers to RCPT TO for an address: a reply line. */
export function rcptReply(address: string, o: NextHopOptions): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at).toLowerCase();
  const domain = address.slice(at + 1).toLowerCase();
  if (at < 0 || !o.domains.includes(domain)) return `550 5.1.2 <${address}>: no such domain here`;
  if (local.startsWith(o.refusePrefix)) return `550 5.1.1 <${address}>: no such user here`;
  if (local.startsWith(o.deferPrefix)) return `451 4.3.0 <${address}>: mailbox busy, try again later`;
  return '250 2.1.5 ok';
}

export async function startNextHop(o: NextHopOptions): Promise<NextHop> {
  const transactions: PeerTransaction[] = [];
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let inData = false;
    let from: string | undefined;
    let mailParams = '';
    let rcpts: PeerRecipient[] = [];
    const reset = () => {
      from = undefined;
      mailParams = '';
      rcpts = [];
    };
    const send = (s: string) => socket.write(s + '\r\n');
    send('220 next.example ESMTP chaos peer');
    const command = (line: string) => {
      lines.push(line);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') {
        reset();
        if (verb === 'HELO') return send('250 next.example');
        return send(['next.example', ...EHLO_KEYWORDS].map((k, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${k}`).join('\r\n'));
      }
      if (/^MAIL FROM:/i.test(line)) {
        const m = /^MAIL FROM:\s*<([^>]*)>\s*(.*)$/i.exec(line);
        if (!m) return send('501 5.5.4 syntax');
        if (from !== undefined) return send('503 5.5.1 nested MAIL');
        from = m[1]!;
        mailParams = m[2]!;
        return send('250 2.1.0 ok');
      }
      if (/^RCPT TO:/i.test(line)) {
        const m = /^RCPT TO:\s*<([^>]*)>\s*(.*)$/i.exec(line);
        if (!m) return send('501 5.5.4 syntax');
        if (from === undefined) return send('503 5.5.1 MAIL first');
        const reply = rcptReply(m[1]!, o);
        if (reply.startsWith('250')) rcpts.push({ address: m[1]!, params: m[2]! });
        return send(reply);
      }
      if (verb === 'DATA') {
        if (from === undefined || !rcpts.length) return send('554 5.5.1 no valid recipients');
        inData = true;
        return send('354 go ahead');
      }
      if (verb === 'RSET') {
        reset();
        return send('250 2.0.0 ok');
      }
      if (verb === 'NOOP') return send('250 2.0.0 ok');
      if (verb === 'QUIT') {
        send('221 2.0.0 bye');
        socket.end();
        return;
      }
      send('502 5.5.2 not implemented');
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (inData) {
          // The end of data is CRLF . CRLF; the content keeps its last CRLF.
          const end = buf.length >= 3 && buf.subarray(0, 3).toString('latin1') === '.\r\n' ? -2 : buf.indexOf('\r\n.\r\n');
          if (end === -1) return;
          const raw = end === -2 ? Buffer.alloc(0) : buf.subarray(0, end + 2);
          buf = buf.subarray(end === -2 ? 3 : end + 5);
          inData = false;
          const text = raw.toString('latin1');
          const content = Buffer.from((text.startsWith('..') ? text.slice(1) : text).replace(/\r\n\.\./g, '\r\n.'), 'latin1');
          transactions.push({ from: from!, mailParams, recipients: rcpts, content, at: Date.now() });
          reset();
          send('250 2.0.0 queued as chaos');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        command(line);
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    transactions,
    lines,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
