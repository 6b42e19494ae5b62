// The loop MAX_POOL_2D and AVERAGE_POOL_2D share (ARITHMETIC.md §7): a window
// clipped to the input (padding never takes part), reduced to one value, then
// the clamp. The ops differ only in the reduction.
import {
  word, W_DEPTH_MULT, W_IN_SHAPE, W_OUT_SHAPE, W_KH, W_KW, W_STRIDE_H, W_STRIDE_W, W_PAD_TOP, W_PAD_LEFT,
  W_ACT_MIN, W_ACT_MAX, C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, OK, BAD_RECORD,
} from './layout';
import { checkBox, checkOutput, boxElems, tileRegionBytes } from './bounds';
import { checkWindowRecord, checkWindowTile } from './window';
import { firstTap, endTap } from './conv';

/** Every output position along one axis has at least one window tap inside the input. */
function windowsReachInput(outSize: i32, inSize: i32, k: i32, stride: i32, pad: i32): bool {
  return pad < k && (outSize - 1) * stride - pad < inSize;
}

export function checkPool(rec: usize): i32 {
  const e = checkWindowRecord(rec);
  if (e != OK) return e;
  if (word(rec, W_IN_SHAPE + 3) != word(rec, W_OUT_SHAPE + 3) || word(rec, W_DEPTH_MULT) != 1) return BAD_RECORD;
  // A declared output larger than the input allows would have empty windows,
  // whose average TFLM leaves undefined: refused at LOAD.
  if (
    !windowsReachInput(word(rec, W_OUT_SHAPE + 1), word(rec, W_IN_SHAPE + 1), word(rec, W_KH), word(rec, W_STRIDE_H), word(rec, W_PAD_TOP)) ||
    !windowsReachInput(word(rec, W_OUT_SHAPE + 2), word(rec, W_IN_SHAPE + 2), word(rec, W_KW), word(rec, W_STRIDE_W), word(rec, W_PAD_LEFT))
  )
    return BAD_RECORD;
  return OK;
}

/** (s ± n/2) / n with C truncation: ties away from zero on the raw sum (n >= 1: checkPool). */
// @ts-ignore: decorator
@inline function roundedMean(s: i32, n: i32): i32 {
  return s > 0 ? (s + n / 2) / n : (s - n / 2) / n;
}

export function runPool(rec: usize, call: usize, isMax: bool): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  e = checkWindowTile(rec, call, word(call, C_BOX_START + 3), word(call, C_BOX_END + 3));
  if (e != OK) return e;
  e = checkOutput(rec, call, boxElems(call), <u32>word(call, C_IN0), tileRegionBytes(call, C_IN0_EXTENT, 1), 0, 0);
  if (e != OK) return e;
  const n0 = word(call, C_BOX_START), n1 = word(call, C_BOX_END);
  const y0 = word(call, C_BOX_START + 1), y1 = word(call, C_BOX_END + 1);
  const x0 = word(call, C_BOX_START + 2), x1 = word(call, C_BOX_END + 2);
  const c0 = word(call, C_BOX_START + 3), c1 = word(call, C_BOX_END + 3);
  const inH = word(rec, W_IN_SHAPE + 1), inW = word(rec, W_IN_SHAPE + 2);
  const kh = word(rec, W_KH), kw = word(rec, W_KW);
  const sh = word(rec, W_STRIDE_H), sw = word(rec, W_STRIDE_W);
  const pt = word(rec, W_PAD_TOP), pl = word(rec, W_PAD_LEFT);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const tn = word(call, C_IN0_ORIGIN), ty = word(call, C_IN0_ORIGIN + 1), tx = word(call, C_IN0_ORIGIN + 2);
  const tc = word(call, C_IN0_ORIGIN + 3);
  const eh = word(call, C_IN0_EXTENT + 1), ew = word(call, C_IN0_EXTENT + 2), ec = word(call, C_IN0_EXTENT + 3);
  const tile = <usize>(<u32>word(call, C_IN0));
  let out = <usize>(<u32>word(call, C_OUT));
  for (let n = n0; n < n1; n++) {
    for (let y = y0; y < y1; y++) {
      const iy0 = y * sh - pt;
      const kyA = firstTap(iy0, 1);
      const kyB = endTap(iy0, 1, kh, inH);
      for (let x = x0; x < x1; x++) {
        const ix0 = x * sw - pl;
        const kxA = firstTap(ix0, 1);
        const kxB = endTap(ix0, 1, kw, inW);
        for (let c = c0; c < c1; c++) {
          let m = -128;
          let s = 0;
          for (let ky = kyA; ky < kyB; ky++) {
            const row = tile + <usize>((((n - tn) * eh + iy0 + ky - ty) * ew + ix0 - tx) * ec + c - tc);
            for (let kx = kxA; kx < kxB; kx++) {
              const v = <i32>load<i8>(row + <usize>(kx * ec));
              m = v > m ? v : m;
              s += v;
            }
          }
          const v = isMax ? m : roundedMean(s, (kyB - kyA) * (kxB - kxA));
          store<i8>(out, <i8>(v < lo ? lo : v > hi ? hi : v));
          out++;
        }
      }
    }
  }
  return OK;
}
