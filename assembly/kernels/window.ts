// What the windowed ops (conv, depthwise, pools) share: record checks and the
// input rows/columns a box's windows touch.
import {
  word, W_IN_SHAPE, W_OUT_SHAPE, W_KH, W_KW, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT,
  W_IN_ZP, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT,
  OK, BAD_RECORD, TILE_TOO_SMALL,
} from './layout';
import { shapeElems, checkTile, tileCovers } from './bounds';

export function isInt8(v: i32): bool {
  return v >= -128 && v <= 127;
}

/** Shapes, window geometry, zero points and clamp of a windowed op's record. */
export function checkWindowRecord(rec: usize): i32 {
  if (shapeElems(rec, W_IN_SHAPE) == 0 || shapeElems(rec, W_OUT_SHAPE) == 0) return BAD_RECORD;
  if (word(rec, W_IN_SHAPE) != word(rec, W_OUT_SHAPE)) return BAD_RECORD;
  for (let w = W_KH; w <= W_DIL_W; w++) if (word(rec, w) < 1 || word(rec, w) > 0xffff) return BAD_RECORD;
  const pt = word(rec, W_PAD_TOP);
  const pl = word(rec, W_PAD_LEFT);
  if (pt < 0 || pl < 0 || pt > 0xffff || pl > 0xffff) return BAD_RECORD;
  if (!isInt8(word(rec, W_IN_ZP)) || !isInt8(word(rec, W_OUT_ZP))) return BAD_RECORD;
  const lo = word(rec, W_ACT_MIN);
  const hi = word(rec, W_ACT_MAX);
  if (!isInt8(lo) || !isInt8(hi) || lo > hi) return BAD_RECORD;
  // Keeps out_y * stride and the window's far edge inside i32.
  const oh = <i64>word(rec, W_OUT_SHAPE + 1) * word(rec, W_STRIDE_H) + <i64>word(rec, W_KH) * word(rec, W_DIL_H);
  const ow = <i64>word(rec, W_OUT_SHAPE + 2) * word(rec, W_STRIDE_W) + <i64>word(rec, W_KW) * word(rec, W_DIL_W);
  if (oh > 0x3fffffff || ow > 0x3fffffff) return BAD_RECORD;
  return OK;
}

/** First input row the windows of output rows [o0, o1) touch, clipped to the input. */
export function touchedLo(o0: i32, stride: i32, pad: i32): i32 {
  const v = o0 * stride - pad;
  return v < 0 ? 0 : v;
}

/** One past the last input row the windows of output rows [o0, o1) touch, clipped. */
export function touchedHi(o1: i32, stride: i32, pad: i32, k: i32, dil: i32, size: i32): i32 {
  const v = (o1 - 1) * stride - pad + (k - 1) * dil + 1;
  return v > size ? size : v;
}

/** Input 0's tile must lie inside the input and hold the box's batch items,
 * every row and column its windows touch, and input channels [cLo, cHi). */
export function checkWindowTile(rec: usize, call: usize, cLo: i32, cHi: i32): i32 {
  const e = checkTile(rec, call, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, W_IN_SHAPE, 1);
  if (e != OK) return e;
  const sh = word(rec, W_STRIDE_H);
  const sw = word(rec, W_STRIDE_W);
  const pt = word(rec, W_PAD_TOP);
  const pl = word(rec, W_PAD_LEFT);
  const yLo = touchedLo(word(call, C_BOX_START + 1), sh, pt);
  const yHi = touchedHi(word(call, C_BOX_END + 1), sh, pt, word(rec, W_KH), word(rec, W_DIL_H), word(rec, W_IN_SHAPE + 1));
  const xLo = touchedLo(word(call, C_BOX_START + 2), sw, pl);
  const xHi = touchedHi(word(call, C_BOX_END + 2), sw, pl, word(rec, W_KW), word(rec, W_DIL_W), word(rec, W_IN_SHAPE + 2));
  if (
    !tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, 0, word(call, C_BOX_START), word(call, C_BOX_END)) ||
    !tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, 1, yLo, yHi) ||
    !tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, 2, xLo, xHi) ||
    !tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, 3, cLo, cHi)
  )
    return TILE_TOO_SMALL;
  return OK;
}

/** v clamped to [lo, hi]. */
// @ts-ignore: decorator
@inline export function clampTo(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}

/** First output index whose window starts inside the input (pad before it). */
// @ts-ignore: decorator
@inline export function interiorLo(pad: i32, stride: i32): i32 {
  return pad > 0 ? (pad + stride - 1) / stride : 0;
}

/** One past the last output index whose window ends inside an input of `size` (0 when none does). */
// @ts-ignore: decorator
@inline export function interiorHi(size: i32, k: i32, dil: i32, pad: i32, stride: i32): i32 {
  const last = size - 1 - (k - 1) * dil + pad;
  return last < 0 ? 0 : last / stride + 1;
}
