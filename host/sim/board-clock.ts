// A QEMU board of a known speed. QEMU's -icount shift=N makes every guest
// instruction take 2^N ns of virtual time, and align=on,sleep=on holds that
// virtual time to the host's wall clock: the board then executes 1e9 / 2^N
// instructions per second of real time, like a chip clocked at that rate
// that retires one instruction per cycle. Only those rates exist, so a stated
// clock is rounded to the nearest one (in log scale) and the planner is
// given the rate the board really runs at.
import { instrPerMac, type BoardEngine } from './instr-per-mac.ts';

/** The fastest clock -icount can give (shift 0: one instruction per ns). */
export const MAX_CLOCK_HZ = 1e9;
/** QEMU accepts shifts up to 10; beyond that the board would be under 1 MHz. */
const MAX_SHIFT = 10;

export interface BoardClock {
  /** -icount shift. */
  shift: number;
  /** Instructions per second the board really gets: 1e9 / 2^shift. */
  hz: number;
  /** One line when `hz` differs from the stated clock by more than 1%. */
  note?: string;
}

const mhz = (hz: number) => `${Number((hz / 1e6).toPrecision(6))} MHz`;

/** The icount shift for a stated clock, and the clock the board then really has. */
export function boardClock(clockHz: number): BoardClock {
  if (!(clockHz > 0) || clockHz > MAX_CLOCK_HZ) throw new Error(`clockHz must be above 0 and at most ${MAX_CLOCK_HZ} (QEMU -icount runs at most one instruction per ns), got ${clockHz}`);
  const shift = Math.min(MAX_SHIFT, Math.round(Math.log2(MAX_CLOCK_HZ / clockHz)));
  const hz = MAX_CLOCK_HZ / 2 ** shift;
  const note =
    Math.abs(hz - clockHz) / clockHz > 0.01
      ? `clockHz ${mhz(clockHz)} is not 1 GHz / 2^n: QEMU runs the board at ${mhz(hz)} (-icount shift=${shift}) and the plan uses that`
      : undefined;
  return { shift, hz, note };
}

/**
 * MAC/s per op kind of a board clocked at `hz`: the clock over the measured
 * instructions per MAC of each kind on its CPU and engine (instr-per-mac.ts).
 */
export function boardSpeed(cpu: string, engine: BoardEngine, hz: number): Record<string, number> & { default: number } {
  const ipm = instrPerMac(cpu, engine);
  if (!ipm) throw new Error(`no measured instructions per MAC for ${cpu} (${engine}): give the board a speed instead of clockHz`);
  return Object.fromEntries(Object.entries(ipm).map(([k, v]) => [k, hz / v])) as Record<string, number> & { default: number };
}
