import net from 'node:net';
import type { LinkPort } from './link-port.ts';

/**
 * A modem's TCP data port (VARA, ARDOP style) as the link's byte stream. Opening fails with an error that
 * names the address; a dropped connection is reported through onClose, and the gateway reopens it.
 */
export function openTcpLinkPort(host: string, port: number, timeoutMs = 10_000): Promise<LinkPort> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`cannot reach the modem at ${host}:${port}: timeout`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the modem at ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      const closers: ((err?: Error) => void)[] = [];
      let closed = false;
      const fire = (err?: Error) => {
        if (closed) return;
        closed = true;
        for (const c of closers) c(err);
      };
      socket.on('error', (err) => fire(err));
      socket.on('close', () => fire());
      resolve({
        write: (data) => void (!closed && socket.write(data)),
        onData: (l) => void socket.on('data', (d: Buffer) => l(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))),
        onClose: (l) => void closers.push(l),
        close: () => new Promise((r) => (closed ? r() : socket.end(() => r()))),
      });
    });
  });
}
