// REQUANTIZE fragment: int8 -> int8 with new scale and zero point (TFLM's
// QUANTIZE with an int8 input): clamp(MBQM(x - IN_ZP, OUT_MULT, OUT_SHIFT) + OUT_ZP).
import { runElementwise } from './elementwise';

export function runRequantize(rec: usize, call: usize): i32 {
  return runElementwise(rec, call, false);
}
