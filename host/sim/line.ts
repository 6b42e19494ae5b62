// A serial line of a given rate and latency, as a schedule: bytes offered to
// it leave one after another at `rate` bytes/s and arrive `latencyMs` later.
// The simulator delivers each piece at its computed arrival time, so wall
// clock measurements over a simulated link mean what they would on the wire.

export class PacedLine {
  private freeAt = 0;

  constructor(
    /** Bytes per second (a UART at B baud, 8N1, carries B/10). */
    readonly rate: number,
    readonly latencyMs = 0,
  ) {
    if (!(rate > 0)) throw new RangeError(`line rate must be positive, got ${rate}`);
  }

  /** When the last of `n` bytes offered at time `now` (ms) has arrived at the far end. */
  arrival(n: number, now: number): number {
    const start = Math.max(now, this.freeAt);
    this.freeAt = start + (n * 1000) / this.rate;
    return this.freeAt + this.latencyMs;
  }
}

/**
 * Resolves at `time` on the performance.now() clock. Waits under a
 * millisecond, below the timers' resolution, only yield to the event loop:
 * arrival times are absolute, so such an early wake-up never accumulates.
 */
export function sleepUntil(time: number): Promise<void> {
  const wait = time - performance.now();
  if (wait <= 0) return Promise.resolve();
  return new Promise((r) => (wait < 1 ? setImmediate(r) : setTimeout(r, wait)));
}
