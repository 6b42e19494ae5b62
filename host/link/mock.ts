// An in-memory pair of transports for tests: what one side writes, the other
// reads. It enforces the same rules as the real links (one write in flight,
// the write size limit, canceled versus disconnected) because it shares their
// base class. Each call makes a fresh pair: no module-level state.
import { BaseTransport } from './base-transport.ts';
import type { Transport } from './transport.ts';

export interface MockPairOptions {
  /** Largest single write, per side. Default 64 KiB. */
  maxWrite?: number;
  /** Delivers each write in pieces of at most this many bytes, as a UART would. Default: whole. */
  deliverIn?: number;
}

export interface MockPair {
  a: Transport;
  b: Transport;
  /** Breaks the link as a pulled cable would: both sides see 'disconnected'. */
  disconnect(): void;
}

class MockEnd extends BaseTransport {
  peer!: MockEnd;

  constructor(
    address: string,
    maxWrite: number,
    private readonly deliverIn: number,
  ) {
    super(address, maxWrite);
  }

  protected async send(bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice();
    // Delivery is asynchronous, as on any real link.
    await new Promise((r) => setImmediate(r));
    for (let at = 0; at < copy.length; at += this.deliverIn) this.peer.deliver(copy.subarray(at, at + this.deliverIn));
  }

  protected async shutdown(): Promise<void> {
    this.peer.cut('peer closed');
  }

  deliver(bytes: Uint8Array): void {
    this.received(bytes);
  }

  cut(reason: string): void {
    this.disconnected(reason);
  }
}

export function mockPair(opts: MockPairOptions = {}): MockPair {
  const maxWrite = opts.maxWrite ?? 64 * 1024;
  const deliverIn = opts.deliverIn ?? Number.MAX_SAFE_INTEGER;
  const a = new MockEnd('mock://a', maxWrite, deliverIn);
  const b = new MockEnd('mock://b', maxWrite, deliverIn);
  a.peer = b;
  b.peer = a;
  return {
    a,
    b,
    disconnect() {
      a.cut('link broken');
      b.cut('link broken');
    },
  };
}
