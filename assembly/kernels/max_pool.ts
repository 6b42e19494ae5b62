// MAX_POOL_2D fragment: the max over the clipped window (starting from -128), then the clamp.
import { runPool } from './pool';

export function runMaxPool(rec: usize, call: usize): i32 {
  return runPool(rec, call, true);
}
