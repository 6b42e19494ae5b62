// A TCP link (node:net): for devices on Wi-Fi/Ethernet and for simulated
// devices on loopback.
import { connect, type Socket } from 'node:net';
import { BaseTransport } from './base-transport.ts';
import type { Transport } from './transport.ts';

export interface TcpOptions {
  /** Largest single write. Default 64 KiB. */
  maxWrite?: number;
  /** Give up connecting after this long. Default 5000 ms. */
  connectTimeoutMs?: number;
}

class SocketTransport extends BaseTransport {
  constructor(
    private readonly socket: Socket,
    address: string,
    maxWrite: number,
  ) {
    super(address, maxWrite);
    socket.setNoDelay(true);
    socket.on('data', (b: Buffer) => this.received(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    socket.on('error', (e) => this.disconnected(e.message));
    socket.on('close', () => this.disconnected('connection closed'));
  }

  protected send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  protected shutdown(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.end(() => (this.socket.destroy(), resolve())));
  }

  protected override pauseSource(): void {
    this.socket.pause();
  }

  protected override resumeSource(): void {
    this.socket.resume();
  }
}

/** Wraps an already connected socket (e.g. one a server accepted). */
export function socketTransport(socket: Socket, address: string, maxWrite = 64 * 1024): Transport {
  return new SocketTransport(socket, address, maxWrite);
}

/** Connects to host:port. */
export async function openTcp(host: string, port: number, opts: TcpOptions = {}): Promise<Transport> {
  const address = `tcp://${host}:${port}`;
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`cannot connect to ${address}: no answer within ${opts.connectTimeoutMs ?? 5000} ms`));
    }, opts.connectTimeoutMs ?? 5000);
    socket.once('connect', () => (clearTimeout(timer), resolve()));
    socket.once('error', (e) => (clearTimeout(timer), reject(new Error(`cannot connect to ${address}: ${e.message}`))));
  });
  return socketTransport(socket, address, opts.maxWrite);
}
