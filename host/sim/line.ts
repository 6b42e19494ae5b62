// A serial line of a given rate and latency, as a schedule: bytes offered to
// it leave one after another at `rate` bytes/s and arrive `latencyMs` later.
// The simulator delivers each piece at its computed arrival time, so wall
// clock measurements over a simulated link mean what they would on the wire.

/** Bytes move in pieces of about this much line time, so a long frame streams rather than arriving whole at its end. */
const PIECE_SECONDS = 0.01;

/** Bytes [start, end) of what was offered, and when the last of them arrives (ms). */
export interface Piece {
  start: number;
  end: number;
  arrives: number;
}

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

  /**
   * `n` bytes offered at `now`, cut into pieces of about 10 ms of line time
   * (at least 64 bytes), each with its own arrival: every arrival is
   * scheduled now, so the latency is paid once per piece in parallel, not
   * once more for every piece queued ahead.
   */
  pieces(n: number, now: number): Piece[] {
    const size = Math.max(64, Math.ceil(this.rate * PIECE_SECONDS));
    const out: Piece[] = [];
    for (let start = 0; start < n; start += size) {
      const end = Math.min(n, start + size);
      out.push({ start, end, arrives: this.arrival(end - start, now) });
    }
    return out;
  }
}

/** Calls `fn` at `time` (ms, performance.now() clock); returns what cancels it. */
export type WakeAt = (time: number, fn: () => void) => () => void;

/**
 * Wakes on Node's timers alone: exact on the virtual clock, where a timer
 * fires at the very time it names.
 */
export const timerWake: WakeAt = (time, fn) => {
  const t = setTimeout(fn, Math.max(0, time - performance.now()));
  return () => clearTimeout(t);
};

/** Node's timers fire 0.2-1.3 ms late, about 0.7 ms on average (measured on an idle 2-core machine). */
const TIMER_LEAD_MS = 0.7;

/**
 * Wakes in real time on a timer set TIMER_LEAD_MS early, so a wake-up is as
 * likely early as late; arrival times are absolute, so neither accumulates.
 * Waking exactly (turning the event loop for the last milliseconds) cost
 * more than it saved once several device processes shared two cores.
 */
export const realTimeWake: WakeAt = (time, fn) => {
  const t = setTimeout(fn, Math.max(0, time - performance.now() - TIMER_LEAD_MS));
  return () => clearTimeout(t);
};

/** Resolves at `time` (ms, performance.now() clock), woken by `wake`. */
export function sleepUntil(wake: WakeAt, time: number): Promise<void> {
  return time <= performance.now() ? Promise.resolve() : new Promise((r) => wake(time, r));
}
