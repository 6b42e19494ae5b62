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

/**
 * Node's timers count whole milliseconds of the event loop's clock: a delay
 * under 1 ms fires after about 1.1 ms, and 1.5 ms after about 1.1 ms too
 * (measured on the 2-core machine), so a 0.5 ms link latency paced by a
 * timer alone became 1.1 ms or more at every hop.
 */
const TIMER_FLOOR_MS = 1.2;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread until `time` (sub-millisecond, without spinning). */
function blockUntil(time: number): void {
  const ms = time - performance.now();
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

interface Wake {
  time: number;
  fn: () => void;
  live: boolean;
}

/** The process's pending real-time wake-ups, earliest first, and what is armed to serve the first. */
const wakes: Wake[] = [];
let armed: { cancel(): void } | undefined;

/** Arms a timer (whole milliseconds) or an immediate for the earliest wake-up. */
function arm(): void {
  armed?.cancel();
  armed = undefined;
  while (wakes.length && !wakes[0].live) wakes.shift();
  if (!wakes.length) return;
  const ahead = Math.floor(wakes[0].time - performance.now() - TIMER_FLOOR_MS + 1);
  if (ahead >= 1) {
    const t = setTimeout(serveFirst, ahead);
    armed = { cancel: () => clearTimeout(t) };
  } else {
    const t = setImmediate(serveFirst);
    armed = { cancel: () => clearImmediate(t) };
  }
}

/**
 * The longest the thread sleeps at once: bytes that arrive while it sleeps
 * are read (and their arrival on the simulated line counted) only after.
 */
const SLICE_MS = 0.25;

/**
 * Serves the earliest wake-up, one per turn of the event loop so that what
 * it resumes (promise continuations) runs before the thread sleeps for the
 * next, and bytes that arrived meanwhile are read: the thread sleeps in
 * slices of at most SLICE_MS, with a turn of the event loop between them.
 */
function serveFirst(): void {
  armed = undefined;
  while (wakes.length && !wakes[0].live) wakes.shift();
  const w = wakes[0];
  if (!w) return;
  if (w.time - performance.now() > SLICE_MS) {
    Atomics.wait(sleeper, 0, 0, SLICE_MS);
    arm();
    return;
  }
  wakes.shift();
  blockUntil(w.time);
  w.fn();
  arm();
}

/**
 * Wakes in real time, in time order: a timer of whole milliseconds brings
 * the process within TIMER_FLOOR_MS of the earliest wake-up, and the thread
 * sleeps out the rest (Atomics.wait, no CPU) in slices of SLICE_MS, reading
 * what arrived between them. One queue per process, so a wake-up never
 * sleeps past an earlier one. Turning the event loop without sleeping cost
 * more than it saved once several device processes shared two cores.
 */
export const realTimeWake: WakeAt = (time, fn) => {
  const w: Wake = { time, fn, live: true };
  let i = wakes.length;
  while (i > 0 && wakes[i - 1].time > time) i--;
  wakes.splice(i, 0, w);
  if (i === 0) arm();
  return () => {
    w.live = false;
  };
};

/** Writes each piece of `bytes` (from PacedLine.pieces) when it has arrived at the line's far end. */
export async function deliver(pieces: readonly Piece[], bytes: Uint8Array, wake: WakeAt, write: (piece: Uint8Array) => Promise<void>): Promise<void> {
  for (const { start, end, arrives } of pieces) {
    await sleepUntil(wake, arrives);
    await write(bytes.subarray(start, end)).catch(() => undefined);
  }
}

/** Resolves at `time` (ms, performance.now() clock), woken by `wake`. */
export function sleepUntil(wake: WakeAt, time: number): Promise<void> {
  return time <= performance.now() ? Promise.resolve() : new Promise((r) => wake(time, r));
}
