// ADD fragment (ARITHMETIC.md §8): each input is centred on its zero point,
// shifted left by LEFT_SHIFT, scaled by its multiplier; the sum is scaled by
// the output multiplier, offset by the output zero point and clamped.
import { runElementwise } from './elementwise';

export function runAdd(rec: usize, call: usize): i32 {
  return runElementwise(rec, call, true);
}
