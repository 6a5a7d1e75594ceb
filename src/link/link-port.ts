/**
 * The byte stream the link runs over: a serial port (real device or socat pty), a TCP modem port, or the
 * simulator. The link decides itself when an over has left the air, from the profile's bit rate, so the
 * port only moves bytes.
 */
export interface LinkPort {
  /** Queues bytes for transmission, in order. Never blocks; never throws for a closed port (bytes are dropped). */
  write(data: Uint8Array): void;
  /** Registers the receiver of incoming bytes, in arbitrary chunks. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Registers a listener for the port going away (device unplugged, peer closed) or failing. */
  onClose(listener: (err?: Error) => void): void;
  close(): Promise<void>;
}
