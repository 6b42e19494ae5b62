// SOFTMAX fragment: whole rows (the last axis) of a box of an int8 input of
// rank <= 4, int8 or int16 out, with gemmlowp's fixed-point exp and reciprocal (ARITHMETIC.md §9).
import {
  word, W_IN_SHAPE, W_OUT_SHAPE, W_SM_MULT, W_SM_LSHIFT, W_SM_DIFF_MIN, W_OUT_BITS, C_OUT, C_BOX_START, C_BOX_END,
  C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, OK, BAD_RECORD, BAD_CALL, TILE_TOO_SMALL, OUT_OF_RANGE,
} from './layout';
import { checkBox, checkOutput, checkTile, tileCovers, tileRegionBytes, boxElems, shapeElems } from './bounds';
import { srdhm, rdbp } from './requant';

export function checkSoftmax(rec: usize): i32 {
  if (shapeElems(rec, W_IN_SHAPE) == 0) return BAD_RECORD;
  for (let i = 0; i < 4; i++) if (word(rec, W_IN_SHAPE + i) != word(rec, W_OUT_SHAPE + i)) return BAD_RECORD;
  const bits = word(rec, W_OUT_BITS);
  const ls = word(rec, W_SM_LSHIFT);
  if ((bits != 8 && bits != 16) || word(rec, W_SM_MULT) < 0 || ls < 0 || ls > 31 || word(rec, W_SM_DIFF_MIN) > 0) return BAD_RECORD;
  return OK;
}

/** v * 2^k saturated to int32 (gemmlowp SaturatingRoundingMultiplyByPOT, k > 0). */
function saturatingShiftLeft(v: i32, k: i32): i32 {
  const threshold = (1 << (31 - k)) - 1;
  if (v > threshold) return i32.MAX_VALUE;
  if (v < -threshold) return i32.MIN_VALUE;
  return v << k;
}

/** exp(c) for c in [-1/4, 0), Q0.31 in and out. */
function expOnInterval(c: i32): i32 {
  const constTerm = 1895147668; // exp(-1/8)
  const oneThird = 715827883;
  const x = c + (1 << 28);
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const t = rdbp(srdhm(rdbp(x4, 2) + x3, oneThird) + x2, 1);
  return constTerm + srdhm(constTerm, x + t);
}

/** exp(a) for a <= 0 in Q5.26, result Q0.31. */
function expOnNegative(a: i32): i32 {
  if (a == 0) return i32.MAX_VALUE;
  const quarter = 1 << 24;
  const b = (a & (quarter - 1)) - quarter;
  let r = expOnInterval(b << 5);
  const rem = b - a;
  if (rem & (1 << 24)) r = srdhm(r, 1672461947);
  if (rem & (1 << 25)) r = srdhm(r, 1302514674);
  if (rem & (1 << 26)) r = srdhm(r, 790015084);
  if (rem & (1 << 27)) r = srdhm(r, 290630308);
  if (rem & (1 << 28)) r = srdhm(r, 39332535);
  if (rem & (1 << 29)) r = srdhm(r, 720401);
  if (rem & (1 << 30)) r = srdhm(r, 242);
  return r;
}

/** 1 / (1 + s / 2^31) for s in [0, 2^31), Q0.31, by Newton-Raphson in Q2.29. */
function oneOverOnePlusX(s: i32): i32 {
  const h = <i32>((<i64>s + 0x80000000) >> 1);
  let y = 1515870810 + srdhm(h, -1010580540);
  for (let i = 0; i < 3; i++) {
    const q = (1 << 29) - srdhm(h, y);
    y = y + saturatingShiftLeft(srdhm(y, q), 2);
  }
  return saturatingShiftLeft(y, 1);
}

export function runSoftmax(rec: usize, call: usize): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  const depth = word(rec, W_IN_SHAPE + 3);
  if (word(call, C_BOX_START + 3) != 0 || word(call, C_BOX_END + 3) != depth) return BAD_CALL;
  e = checkTile(rec, call, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, W_IN_SHAPE, 1);
  if (e != OK) return e;
  for (let i = 0; i < 4; i++) {
    if (!tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, i, word(call, C_BOX_START + i), word(call, C_BOX_END + i))) return TILE_TOO_SMALL;
  }
  const bits = word(rec, W_OUT_BITS);
  const bytes = bits >> 3;
  e = checkOutput(rec, call, boxElems(call) * <u64>bytes, <u32>word(call, C_IN0), tileRegionBytes(call, C_IN0_EXTENT, 1), 0, 0);
  if (e != OK) return e;
  const mult = word(rec, W_SM_MULT);
  const ls = word(rec, W_SM_LSHIFT);
  const diffMin = word(rec, W_SM_DIFF_MIN);
  const t0 = word(call, C_IN0_ORIGIN), t1 = word(call, C_IN0_ORIGIN + 1), t2 = word(call, C_IN0_ORIGIN + 2);
  const e1 = word(call, C_IN0_EXTENT + 1), e2 = word(call, C_IN0_EXTENT + 2);
  const tile = <usize>(<u32>word(call, C_IN0));
  // The final shift (12 - clz(sum)) + 31 - bits stays within 31 unless an int8
  // row sums to 2^28 or more (512+ values near its max); TFLM leaves that
  // undefined, so such a call is refused before anything is written.
  if (bits == 8 && depth >= 512) {
    for (let a = word(call, C_BOX_START); a < word(call, C_BOX_END); a++)
      for (let b = word(call, C_BOX_START + 1); b < word(call, C_BOX_END + 1); b++)
        for (let c = word(call, C_BOX_START + 2); c < word(call, C_BOX_END + 2); c++) {
          const row = tile + <usize>(((a - t0) * e1 + b - t1) * e2 + c - t2) * <usize>depth;
          if (expSum(row, depth, rowMax(row, depth), mult, ls, diffMin) >= 1 << 28) return OUT_OF_RANGE;
        }
  }
  let out = <usize>(<u32>word(call, C_OUT));
  for (let a = word(call, C_BOX_START); a < word(call, C_BOX_END); a++) {
    for (let b = word(call, C_BOX_START + 1); b < word(call, C_BOX_END + 1); b++) {
      for (let c = word(call, C_BOX_START + 2); c < word(call, C_BOX_END + 2); c++) {
        const row = tile + <usize>(((a - t0) * e1 + b - t1) * e2 + c - t2) * <usize>depth;
        softmaxRow(row, depth, out, bits, mult, ls, diffMin);
        out += <usize>(depth * bytes);
      }
    }
  }
  return OK;
}

function rowMax(row: usize, depth: i32): i32 {
  let max = -128;
  for (let i = 0; i < depth; i++) {
    const v = <i32>load<i8>(row + <usize>i);
    if (v > max) max = v;
  }
  return max;
}

/** Σ exp(x - max) over the row in Q12.19, skipping differences below diffMin. */
function expSum(row: usize, depth: i32, max: i32, mult: i32, ls: i32, diffMin: i32): i32 {
  let sum = 0;
  for (let i = 0; i < depth; i++) {
    const d = <i32>load<i8>(row + <usize>i) - max;
    if (d >= diffMin) sum += rdbp(expOnNegative(srdhm(d << ls, mult)), 12);
  }
  return sum;
}

/** One row of `depth` int8 values at `row` into `out` (int8 or int16 by `bits`). */
function softmaxRow(row: usize, depth: i32, out: usize, bits: i32, mult: i32, ls: i32, diffMin: i32): void {
  const typeMin = bits == 8 ? -128 : -32768;
  const typeMax = bits == 8 ? 127 : 32767;
  const max = rowMax(row, depth);
  const sum = expSum(row, depth, max, mult, ls, diffMin);
  const z = <i32>clz<u32>(<u32>sum);
  const recip = oneOverOnePlusX(<i32>((<u32>sum << z) - 0x80000000));
  const outShift = 12 - z + 31 - bits;
  for (let i = 0; i < depth; i++) {
    const d = <i32>load<i8>(row + <usize>i) - max;
    let v = typeMin;
    if (d >= diffMin) {
      v = rdbp(srdhm(recip, expOnNegative(srdhm(d << ls, mult))), outShift) + typeMin;
      v = v < typeMin ? typeMin : v > typeMax ? typeMax : v;
    }
    if (bits == 8) store<i8>(out + <usize>i, <i8>v);
    else store<i16>(out + (<usize>i << 1), <i16>v);
  }
}
