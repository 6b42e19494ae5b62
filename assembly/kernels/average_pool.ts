// AVERAGE_POOL_2D fragment: the raw sum over the clipped window divided by the
// number of valid taps, rounding half away from zero on the raw sum, then the clamp.
import { runPool } from './pool';

export function runAveragePool(rec: usize, call: usize): i32 {
  return runPool(rec, call, false);
}
