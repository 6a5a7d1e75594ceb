import { SMTPServer } from 'smtp-server';
import { extendServer } from '../../src/smtp/esmtp-adapter.ts';

export interface ScriptedPeer {
  port: number;
  /** Every MAIL and RCPT line as the client sent it. */
  lines: string[];
  messages: string[];
  close(): Promise<void>;
}

/**
 * A next hop built on smtp-server that advertises what a test asks for and answers RCPT by the local part:
 * reject* -> 550 5.1.1, later* -> 451 4.3.0, anything else -> 250.
 */
export async function scriptedPeer(keywords: string[]): Promise<ScriptedPeer> {
  const lines: string[] = [];
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideDSN: !keywords.includes('DSN'), // smtp-server prints DSN itself
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, cb) {
      const local = address.address.split('@')[0]!;
      if (local.startsWith('reject')) return cb(Object.assign(new Error('5.1.1 no such user here'), { responseCode: 550 }));
      if (local.startsWith('later')) return cb(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 }));
      cb();
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('utf8'));
        cb(null, '2.0.0 ok');
      });
    },
  });
  extendServer(server, {
    ehloKeywords: () => keywords.filter((k) => k !== 'DSN'),
    preflight: (_verb, line) => {
      lines.push(line ?? '');
      // Keep only the path: smtp-server itself would refuse parameters it does not know.
      return { line: (line ?? '').replace(/^((?:MAIL FROM|RCPT TO):<[^>]*>).*$/i, '$1') };
    },
    mailAccepted: () => '2.1.0 ok',
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  return { port, lines, messages, close: () => new Promise((r) => server.close(() => r())) };
}
