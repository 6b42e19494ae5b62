// A serial link over a tty or a PTY, opened by path (serialport's stream over
// the native binding). PTYs from socat ignore the baud rate; real UARTs use it.
import { SerialPortStream } from '@serialport/stream';
import { autoDetect } from '@serialport/bindings-cpp';
import { BaseTransport } from './base-transport.ts';
import type { Transport } from './transport.ts';

export interface SerialOptions {
  /** Line rate for real UARTs. Default 115200. */
  baudRate?: number;
  /** Largest single write. Default 64 KiB. */
  maxWrite?: number;
}

class SerialTransport extends BaseTransport {
  constructor(
    private readonly port: SerialPortStream,
    maxWrite: number,
  ) {
    super(port.path, maxWrite);
    port.on('data', (b: Buffer) => this.received(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    // A PTY whose other side went away fails reads with EIO: that is a disconnect.
    port.on('error', (e: Error) => this.disconnected(e.message));
    port.on('close', (e?: Error) => this.disconnected(e?.message ?? 'port closed'));
  }

  /** Resolves once the binding handed the bytes to the OS (no drain: the contract does not wait for the wire). */
  protected send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), (e) => {
        if (e) reject(e);
        else resolve();
      });
    });
  }

  protected shutdown(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }

  protected override pauseSource(): void {
    this.port.pause();
  }

  protected override resumeSource(): void {
    this.port.resume();
  }
}

/** Opens the serial device at `path` (e.g. /dev/ttyUSB0 or a socat PTY /dev/pts/N). */
export async function openSerial(path: string, opts: SerialOptions = {}): Promise<Transport> {
  const port = new SerialPortStream({ binding: autoDetect(), path, baudRate: opts.baudRate ?? 115200, autoOpen: false, lock: false });
  await new Promise<void>((resolve, reject) =>
    port.open((e) => (e ? reject(new Error(`cannot open serial port ${path}: ${e.message}`)) : resolve())),
  );
  return new SerialTransport(port, opts.maxWrite ?? 64 * 1024);
}
