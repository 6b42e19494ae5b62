// The loop ADD and REQUANTIZE share: a 4-D output box where each input is read
// through numpy broadcasting (an input axis of size 1 repeats its one value).
import {
  word, W_IN_SHAPE, W_IN2_SHAPE, W_OUT_SHAPE, W_IN_ZP, W_IN2_ZP, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX, W_LEFT_SHIFT,
  W_IN1_MULT, W_IN1_SHIFT, W_IN2_MULT, W_IN2_SHIFT, W_OUT_MULT, W_OUT_SHIFT, C_OUT, C_BOX_START, C_BOX_END,
  C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, C_IN1, C_IN1_ORIGIN, C_IN1_EXTENT, OK, BAD_RECORD, TILE_TOO_SMALL,
} from './layout';
import { checkBox, checkOutput, checkTile, tileCovers, tileRegionBytes, boxElems, shapeElems } from './bounds';
import { requantOk } from './channels';
import { isInt8 } from './window';
import { mbqm } from './requant';

/** Every input axis equals the output's or is 1. */
function broadcastsTo(rec: usize, inW: i32): bool {
  for (let i = 0; i < 4; i++) {
    const d = word(rec, inW + i);
    if (d != 1 && d != word(rec, W_OUT_SHAPE + i)) return false;
  }
  return true;
}

export function checkElementwise(rec: usize, binary: bool): i32 {
  if (shapeElems(rec, W_IN_SHAPE) == 0 || shapeElems(rec, W_OUT_SHAPE) == 0) return BAD_RECORD;
  if (!isInt8(word(rec, W_IN_ZP)) || !isInt8(word(rec, W_OUT_ZP))) return BAD_RECORD;
  const lo = word(rec, W_ACT_MIN);
  const hi = word(rec, W_ACT_MAX);
  if (!isInt8(lo) || !isInt8(hi) || lo > hi) return BAD_RECORD;
  if (!requantOk(word(rec, W_OUT_MULT), word(rec, W_OUT_SHIFT))) return BAD_RECORD;
  if (!binary) {
    for (let i = 0; i < 4; i++) if (word(rec, W_IN_SHAPE + i) != word(rec, W_OUT_SHAPE + i)) return BAD_RECORD;
    return OK;
  }
  if (shapeElems(rec, W_IN2_SHAPE) == 0 || !isInt8(word(rec, W_IN2_ZP))) return BAD_RECORD;
  if (!broadcastsTo(rec, W_IN_SHAPE) || !broadcastsTo(rec, W_IN2_SHAPE)) return BAD_RECORD;
  const ls = word(rec, W_LEFT_SHIFT);
  if (ls < 0 || ls > 23) return BAD_RECORD;
  if (!requantOk(word(rec, W_IN1_MULT), word(rec, W_IN1_SHIFT)) || !requantOk(word(rec, W_IN2_MULT), word(rec, W_IN2_SHIFT)))
    return BAD_RECORD;
  return OK;
}

/** The tile must hold the broadcast source of the box along every axis. */
function checkSourceTile(rec: usize, call: usize, offW: i32, originW: i32, extentW: i32, shapeW: i32): i32 {
  const e = checkTile(rec, call, offW, originW, extentW, shapeW, 1);
  if (e != OK) return e;
  for (let i = 0; i < 4; i++) {
    const one = word(rec, shapeW + i) == 1;
    const lo = one ? 0 : word(call, C_BOX_START + i);
    const hi = one ? 1 : word(call, C_BOX_END + i);
    if (!tileCovers(call, originW, extentW, i, lo, hi)) return TILE_TOO_SMALL;
  }
  return OK;
}

/** Element stride of axis i inside a tile, 0 where the input broadcasts. */
function sourceStride(rec: usize, call: usize, extentW: i32, shapeW: i32, i: i32): i32 {
  if (word(rec, shapeW + i) == 1) return 0;
  let s = 1;
  for (let j = i + 1; j < 4; j++) s *= word(call, extentW + j);
  return s;
}

/** Address of the box's first element inside a tile. */
function sourceBase(rec: usize, call: usize, offW: i32, originW: i32, extentW: i32, shapeW: i32): usize {
  let p = <usize>(<u32>word(call, offW));
  for (let i = 0; i < 4; i++) {
    const start = word(rec, shapeW + i) == 1 ? 0 : word(call, C_BOX_START + i);
    p += <usize>((start - word(call, originW + i)) * sourceStride(rec, call, extentW, shapeW, i));
  }
  return p;
}

export function runElementwise(rec: usize, call: usize, binary: bool): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  e = checkSourceTile(rec, call, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, W_IN_SHAPE);
  if (e != OK) return e;
  let in1Bytes: u64 = 0;
  if (binary) {
    e = checkSourceTile(rec, call, C_IN1, C_IN1_ORIGIN, C_IN1_EXTENT, W_IN2_SHAPE);
    if (e != OK) return e;
    in1Bytes = tileRegionBytes(call, C_IN1_EXTENT, 1);
  }
  e = checkOutput(
    rec, call, boxElems(call), <u32>word(call, C_IN0), tileRegionBytes(call, C_IN0_EXTENT, 1), <u32>word(call, C_IN1), in1Bytes,
  );
  if (e != OK) return e;
  const a0 = sourceBase(rec, call, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, W_IN_SHAPE);
  const b0 = binary ? sourceBase(rec, call, C_IN1, C_IN1_ORIGIN, C_IN1_EXTENT, W_IN2_SHAPE) : 0;
  const as0 = sourceStride(rec, call, C_IN0_EXTENT, W_IN_SHAPE, 0), as1 = sourceStride(rec, call, C_IN0_EXTENT, W_IN_SHAPE, 1);
  const as2 = sourceStride(rec, call, C_IN0_EXTENT, W_IN_SHAPE, 2), as3 = sourceStride(rec, call, C_IN0_EXTENT, W_IN_SHAPE, 3);
  const bs0 = binary ? sourceStride(rec, call, C_IN1_EXTENT, W_IN2_SHAPE, 0) : 0;
  const bs1 = binary ? sourceStride(rec, call, C_IN1_EXTENT, W_IN2_SHAPE, 1) : 0;
  const bs2 = binary ? sourceStride(rec, call, C_IN1_EXTENT, W_IN2_SHAPE, 2) : 0;
  const bs3 = binary ? sourceStride(rec, call, C_IN1_EXTENT, W_IN2_SHAPE, 3) : 0;
  const zpA = word(rec, W_IN_ZP), zpB = word(rec, W_IN2_ZP), outZp = word(rec, W_OUT_ZP);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const ls = word(rec, W_LEFT_SHIFT);
  const mA = word(rec, W_IN1_MULT), sA = word(rec, W_IN1_SHIFT);
  const mB = word(rec, W_IN2_MULT), sB = word(rec, W_IN2_SHIFT);
  const mO = word(rec, W_OUT_MULT), sO = word(rec, W_OUT_SHIFT);
  const d0 = word(call, C_BOX_END) - word(call, C_BOX_START);
  const d1 = word(call, C_BOX_END + 1) - word(call, C_BOX_START + 1);
  const d2 = word(call, C_BOX_END + 2) - word(call, C_BOX_START + 2);
  const d3 = word(call, C_BOX_END + 3) - word(call, C_BOX_START + 3);
  let out = <usize>(<u32>word(call, C_OUT));
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        const pa = a0 + <usize>(i0 * as0 + i1 * as1 + i2 * as2);
        const pb = b0 + <usize>(i0 * bs0 + i1 * bs1 + i2 * bs2);
        for (let i3 = 0; i3 < d3; i3++) {
          const xa = <i32>load<i8>(pa + <usize>(i3 * as3)) - zpA;
          let acc: i32;
          if (binary) {
            const xb = <i32>load<i8>(pb + <usize>(i3 * bs3)) - zpB;
            acc = mbqm(xa << ls, mA, sA) + mbqm(xb << ls, mB, sB);
          } else {
            acc = xa;
          }
          const v = mbqm(acc, mO, sO) + outZp;
          store<i8>(out, <i8>(v < lo ? lo : v > hi ? hi : v));
          out++;
        }
      }
    }
  }
  return OK;
}
