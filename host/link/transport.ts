// The transport contract every link implements (serial, TCP, BLE, the
// in-memory mock). It moves bytes, nothing else: framing and messages live
// above it. The semantics follow serialport's binding interface:
//
// - open is explicit (each link's open function returns an open Transport);
// - read() resolves with at least one byte;
// - close() makes pending and later reads and writes reject with
//   TransportError 'canceled'; any other failure is 'disconnected';
// - one write at a time: a write started while another is pending rejects
//   with 'busy' (so callers cannot rely on queuing a real link lacks);
// - a write longer than `maxWrite` rejects with 'too-large'.

export type TransportErrorKind = 'canceled' | 'disconnected' | 'busy' | 'too-large';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export function isCanceled(e: unknown): boolean {
  return e instanceof TransportError && e.kind === 'canceled';
}

export interface Transport {
  /** Where this link goes, as a URI or path: '/dev/pts/3', 'tcp://127.0.0.1:4000', 'ble://node-1'. */
  readonly address: string;
  /** The largest single write accepted, in bytes. */
  readonly maxWrite: number;
  /** False once closed by either side or disconnected. */
  readonly isOpen: boolean;
  /**
   * Writes all of `bytes`. Resolves when they are handed to the OS or peer.
   * Rejects 'busy' when another write is pending, 'too-large' above
   * `maxWrite`, 'canceled' after close(), 'disconnected' when the link broke.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves with at least one received byte; rejects as write() does. */
  read(): Promise<Uint8Array>;
  /** Closes the link. Idempotent; pending operations reject with 'canceled'. */
  close(): Promise<void>;
}

/**
 * Yields received chunks until the transport is closed locally (then ends
 * quietly). A disconnection is thrown to the consumer.
 */
export async function* chunks(t: Transport): AsyncGenerator<Uint8Array> {
  for (;;) {
    try {
      yield await t.read();
    } catch (e) {
      if (isCanceled(e)) return;
      throw e;
    }
  }
}

/** `t` with some of its methods replaced; address, write size and open state stay `t`'s. */
export function overlay(t: Transport, methods: Partial<Pick<Transport, 'write' | 'read' | 'close'>>): Transport {
  return {
    get address() {
      return t.address;
    },
    get maxWrite() {
      return t.maxWrite;
    },
    get isOpen() {
      return t.isOpen;
    },
    write: (bytes) => t.write(bytes),
    read: () => t.read(),
    close: () => t.close(),
    ...methods,
  };
}

/**
 * `t` with every received chunk passed through `map` (a tap or a filter, for
 * tools and tests); an empty result is not delivered, the next chunk is read.
 */
export function mapReads(t: Transport, map: (chunk: Uint8Array) => Uint8Array): Transport {
  return overlay(t, {
    async read() {
      for (;;) {
        const out = map(await t.read());
        if (out.length > 0) return out;
      }
    },
  });
}
