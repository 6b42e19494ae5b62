// The rules of the transport contract, implemented once: receive buffering
// with backpressure, one write in flight, the size limit, and canceled
// versus disconnected. Each link (serial, TCP, BLE, mock) extends this and
// supplies only how bytes leave (`send`), how it shuts down (`shutdown`), and
// optionally how to pause and resume its source.
import { TransportError, type Transport } from './transport.ts';

/** Received bytes above which the link's source is paused until read. */
const RECEIVE_HIGH_WATER = 1 << 20;

interface Pending<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

export abstract class BaseTransport implements Transport {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private reader?: Pending<Uint8Array>;
  private writer?: Pending<void>;
  private failure?: TransportError;
  private paused = false;

  constructor(
    readonly address: string,
    readonly maxWrite: number,
  ) {}

  get isOpen(): boolean {
    return this.failure === undefined;
  }

  /** Hands bytes to the link; resolves when the OS or peer has them. */
  protected abstract send(bytes: Uint8Array): Promise<void>;
  /** Releases the link's resources. Called once, on close or disconnect. */
  protected abstract shutdown(): Promise<void>;
  /** Stops the source while the receive buffer is full; links without flow control ignore it. */
  protected pauseSource(): void {}
  protected resumeSource(): void {}

  /** Called by the link when bytes arrive. */
  protected received(bytes: Uint8Array): void {
    if (this.failure || bytes.length === 0) return;
    if (this.reader) {
      const r = this.reader;
      this.reader = undefined;
      r.resolve(bytes);
      return;
    }
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (this.queued > RECEIVE_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.pauseSource();
    }
  }

  /** Called by the link when it breaks. Bytes already received stay readable. */
  protected disconnected(reason: string): void {
    if (this.failure) return;
    this.fail(new TransportError('disconnected', `${this.address}: disconnected: ${reason}`), false);
    void this.shutdown().catch(() => undefined);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.writer) throw new TransportError('busy', `${this.address}: a write is already in flight`);
    if (bytes.length > this.maxWrite)
      throw new TransportError('too-large', `${this.address}: write of ${bytes.length} bytes exceeds the limit of ${this.maxWrite}`);
    const done = new Promise<void>((resolve, reject) => (this.writer = { resolve, reject }));
    const w = this.writer!;
    this.send(bytes).then(
      () => w.resolve(),
      (e: Error) => {
        w.reject(this.failure ?? new TransportError('disconnected', `${this.address}: write failed: ${e.message}`));
        this.disconnected(`write failed: ${e.message}`);
      },
    );
    try {
      await done;
    } finally {
      if (this.writer === w) this.writer = undefined;
    }
  }

  read(): Promise<Uint8Array> {
    if (this.queued > 0) {
      const out = concat(this.queue, this.queued);
      this.queue = [];
      this.queued = 0;
      if (this.paused) {
        this.paused = false;
        this.resumeSource();
      }
      return Promise.resolve(out);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.reader) return Promise.reject(new TransportError('busy', `${this.address}: a read is already pending`));
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.failure) return;
    this.fail(new TransportError('canceled', `${this.address}: closed`), true);
    await this.shutdown();
  }

  private fail(err: TransportError, discard: boolean): void {
    this.failure = err;
    if (discard) {
      this.queue = [];
      this.queued = 0;
    }
    this.reader?.reject(err);
    this.reader = undefined;
    this.writer?.reject(err);
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
