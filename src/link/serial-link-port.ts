import type { LinkPort } from './link-port.ts';

export interface SerialSettings {
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits?: 5 | 6 | 7 | 8;
  readonly stopBits?: 1 | 2;
  readonly parity?: 'none' | 'even' | 'odd';
  readonly rtscts?: boolean;
}

/**
 * A serial device (a TNC, an HF modem, a socat pseudo-terminal) as the link's byte stream, through the
 * `serialport` package. Opening fails with an error that names the device.
 */
export async function openSerialLinkPort(settings: SerialSettings): Promise<LinkPort> {
  // Loaded on first use: the package and its native binding cost ~14 MB that a station without a serial link never needs.
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({
    path: settings.path,
    baudRate: settings.baudRate,
    dataBits: settings.dataBits ?? 8,
    stopBits: settings.stopBits ?? 1,
    parity: settings.parity ?? 'none',
    rtscts: settings.rtscts ?? false,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(new Error(`cannot open serial port ${settings.path}: ${err.message}`)) : resolve())),
  );
  const closeListeners: ((err?: Error) => void)[] = [];
  let closed = false;
  const fire = (err?: Error) => {
    if (closed) return;
    closed = true;
    for (const l of closeListeners) l(err);
  };
  port.on('close', (err?: Error & { disconnected?: boolean }) => fire(err ?? undefined));
  port.on('error', (err: Error) => fire(err));
  return {
    write(data) {
      if (!closed) port.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    },
    onData(listener) {
      port.on('data', (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    close() {
      return new Promise((resolve) => {
        if (!port.isOpen) return resolve();
        port.drain(() => port.close(() => resolve()));
      });
    },
  };
}
