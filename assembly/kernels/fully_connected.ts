// FULLY_CONNECTED fragment: batches [b0,b1) x units [u0,u1), over the whole
// input depth (int8 out) or a depth range (int32 partial sums), plus the
// reduce that turns the partial sums of a depth partition into the layer's
// output (ARITHMETIC.md §5; ABI.md "Call block"). When the record's depth
// range is a whole number of words its full blocks of four units are
// interleaved by words (blocks.ts).
import {
  word, W_IN_SHAPE, W_OUT_SHAPE, W_IN_ZP, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX, W_CH_LO, W_CH_HI, W_DEPTH_LO, W_DEPTH_HI,
  W_WEIGHTS, W_BIAS, W_FOLDED, W_MULT, W_SHIFT, C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT,
  C_DEPTH_START, C_DEPTH_END, C_PARTS, OK, BAD_RECORD, BAD_CALL, CHANNELS_NOT_LOADED, TILE_TOO_SMALL, OUT_OF_MEMORY_BOUNDS,
} from './layout';
import { checkBox, checkOutput, checkTile, tileCovers, tileRegionBytes, boxElems, boxDim, shapeElems, regionInMemory } from './bounds';
import { checkChannelConstants, channelEntry } from './channels';
import { isInt8 } from './window';
import { lane0, lane1, lane2, lane3 } from './lanes';
import { requantize } from './requant';
import { channelBase, channelStep, firstQuad, weightAt } from './blocks';

export function checkFc(rec: usize): i32 {
  if (shapeElems(rec, W_IN_SHAPE) == 0 || shapeElems(rec, W_OUT_SHAPE) == 0) return BAD_RECORD;
  if (word(rec, W_IN_SHAPE) != word(rec, W_OUT_SHAPE)) return BAD_RECORD;
  for (let i = 2; i < 4; i++) if (word(rec, W_IN_SHAPE + i) != 1 || word(rec, W_OUT_SHAPE + i) != 1) return BAD_RECORD;
  if (!isInt8(word(rec, W_IN_ZP)) || !isInt8(word(rec, W_OUT_ZP))) return BAD_RECORD;
  const lo = word(rec, W_ACT_MIN);
  const hi = word(rec, W_ACT_MAX);
  if (!isInt8(lo) || !isInt8(hi) || lo > hi) return BAD_RECORD;
  const dLo = word(rec, W_DEPTH_LO);
  const dHi = word(rec, W_DEPTH_HI);
  if (dLo < 0 || dHi <= dLo || dHi > word(rec, W_IN_SHAPE + 1)) return BAD_RECORD;
  const nc = <u64>(word(rec, W_CH_HI) - word(rec, W_CH_LO));
  return checkChannelConstants(rec, word(rec, W_OUT_SHAPE + 1), nc * <u64>(dHi - dLo));
}

/** folded[u] = bias[u] - inZp * sum(w[u]) over the slice's depth range. Only
 * used when the slice holds the whole depth. */
export function foldFc(rec: usize): void {
  const lo = word(rec, W_CH_LO);
  const hi = word(rec, W_CH_HI);
  const nd = word(rec, W_DEPTH_HI) - word(rec, W_DEPTH_LO);
  const zp = word(rec, W_IN_ZP);
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const blocked = isBlocked(nd);
  for (let u = lo; u < hi; u++) {
    const ui = <usize>(u - lo);
    const w = channelBase(weights, ui, <usize>nd, blocked, hi - lo);
    const step = channelStep(ui, blocked, hi - lo);
    let s = 0;
    for (let t: usize = 0; t < <usize>nd; t++) s += weightAt(w, step, t);
    store<i32>(channelEntry(rec, W_FOLDED, u), load<i32>(channelEntry(rec, W_BIAS, u)) - zp * s);
  }
}

/** Whether a record whose units hold nd weights each has its full unit blocks interleaved (blocks.ts). */
// @ts-ignore: decorator
@inline function isBlocked(nd: i32): bool {
  return (nd & 3) == 0;
}

export function runFc(rec: usize, call: usize): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  const u0 = word(call, C_BOX_START + 1);
  const u1 = word(call, C_BOX_END + 1);
  if (u0 < word(rec, W_CH_LO) || u1 > word(rec, W_CH_HI)) return CHANNELS_NOT_LOADED;
  const d0 = word(call, C_DEPTH_START);
  const d1 = word(call, C_DEPTH_END);
  const depth = word(rec, W_IN_SHAPE + 1);
  if (d0 < 0 || d1 <= d0 || d1 > depth) return BAD_CALL;
  if (d0 < word(rec, W_DEPTH_LO) || d1 > word(rec, W_DEPTH_HI)) return CHANNELS_NOT_LOADED;
  e = checkTile(rec, call, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, W_IN_SHAPE, 1);
  if (e != OK) return e;
  if (
    !tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, 0, word(call, C_BOX_START), word(call, C_BOX_END)) ||
    !tileCovers(call, C_IN0_ORIGIN, C_IN0_EXTENT, 1, d0, d1)
  )
    return TILE_TOO_SMALL;
  const partial = d0 != 0 || d1 != depth;
  const in0 = <u32>word(call, C_IN0);
  e = checkOutput(rec, call, boxElems(call) * (partial ? 4 : 1), in0, tileRegionBytes(call, C_IN0_EXTENT, 1), 0, 0);
  if (e != OK) return e;
  fcBox(rec, call, d0, d1, partial);
  return OK;
}

/** Sum of the products of the four int8 lanes of two words. */
// @ts-ignore: decorator
@inline function dot4(a: i32, b: i32): i32 {
  return lane0(a) * lane0(b) + lane1(a) * lane1(b) + lane2(a) * lane2(b) + lane3(a) * lane3(b);
}

/** Sum of the four int8 lanes of a word. */
// @ts-ignore: decorator
@inline function sum4(a: i32): i32 {
  return lane0(a) + lane1(a) + lane2(a) + lane3(a);
}

/** Σ x[i] * w(t0 + i) over len values of one unit's weights at w (words
 * `step` apart, byte t at weightAt(w, step, t)), four per word load when the
 * range starts at a word of the layout. */
// @ts-ignore: decorator
@inline function dot(x: usize, w: usize, step: usize, t0: usize, len: i32): i32 {
  let acc = 0;
  let i = 0;
  if (step == 4 || (t0 & 3) == 0) {
    let wp = w + t0 * (step >> 2);
    for (; i + 4 <= len; i += 4) {
      acc += dot4(load<i32>(x + <usize>i), load<i32>(wp));
      wp += step;
    }
  }
  for (; i < len; i++) acc += <i32>load<i8>(x + <usize>i) * weightAt(w, step, t0 + <usize>i);
  return acc;
}

/** Σ w(t0 + i) over len values of one unit's weights (as dot). */
function weightSum(w: usize, step: usize, t0: usize, len: i32): i32 {
  let s = 0;
  let i = 0;
  if (step == 4 || (t0 & 3) == 0) {
    let wp = w + t0 * (step >> 2);
    for (; i + 4 <= len; i += 4) {
      s += sum4(load<i32>(wp));
      wp += step;
    }
  }
  for (; i < len; i++) s += weightAt(w, step, t0 + <usize>i);
  return s;
}

function fcBox(rec: usize, call: usize, d0: i32, d1: i32, partial: bool): void {
  const b0 = word(call, C_BOX_START), b1 = word(call, C_BOX_END);
  const u0 = word(call, C_BOX_START + 1), u1 = word(call, C_BOX_END + 1);
  const chLo = word(rec, W_CH_LO);
  const nc = word(rec, W_CH_HI) - chLo;
  const dLo = word(rec, W_DEPTH_LO);
  const nd = word(rec, W_DEPTH_HI) - dLo;
  const zp = word(rec, W_IN_ZP), outZp = word(rec, W_OUT_ZP);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const tb = word(call, C_IN0_ORIGIN), td = word(call, C_IN0_ORIGIN + 1);
  const ed = word(call, C_IN0_EXTENT + 1);
  const tile = <usize>(<u32>word(call, C_IN0));
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const folded = rec + <usize>word(rec, W_FOLDED);
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  const len = d1 - d0;
  const nu = u1 - u0;
  const out = <usize>(<u32>word(call, C_OUT));
  const blocked = isBlocked(nd);
  // Whole depth (so the record holds it from 0) in blocked rows: blocks of four units from a block boundary.
  const uq = partial || !blocked ? u1 : firstQuad(u0, u1, chLo, blocked);
  const uqEnd = uq + ((u1 - uq) & ~3);
  const t0 = <usize>(d0 - dLo);
  for (let b = b0; b < b1; b++) {
    const xr = tile + <usize>((b - tb) * ed + (d0 - td));
    const rowOut = <usize>((b - b0) * nu);
    // Four units per step: each input word is loaded once for four dot products, the
    // block's four words of it from one pointer. (Read as two 64-bit words, as conv does,
    // the M4 took 4.15 instructions per MAC instead of 4.91, but V8 fell to 1.23x plain C.)
    for (let u = uq; u < uqEnd; u += 4) {
      const ui = <usize>(u - chLo);
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let wp = weights + ui * <usize>nd;
      let xp = xr;
      const end = xr + <usize>len;
      while (xp < end) {
        const xv = load<i32>(xp);
        xp += 4;
        const wa = load<i32>(wp), wb = load<i32>(wp, 4), wc = load<i32>(wp, 8), wd = load<i32>(wp, 12);
        wp += 16;
        let x = lane0(xv);
        a0 += x * lane0(wa); a1 += x * lane0(wb); a2 += x * lane0(wc); a3 += x * lane0(wd);
        x = lane1(xv);
        a0 += x * lane1(wa); a1 += x * lane1(wb); a2 += x * lane1(wc); a3 += x * lane1(wd);
        x = lane2(xv);
        a0 += x * lane2(wa); a1 += x * lane2(wb); a2 += x * lane2(wc); a3 += x * lane2(wd);
        x = lane3(xv);
        a0 += x * lane3(wa); a1 += x * lane3(wb); a2 += x * lane3(wc); a3 += x * lane3(wd);
      }
      const o = out + rowOut + <usize>(u - u0);
      store<i8>(o, unitOut(a0, ui, folded, mult, shift, outZp, lo, hi));
      store<i8>(o + 1, unitOut(a1, ui + 1, folded, mult, shift, outZp, lo, hi));
      store<i8>(o + 2, unitOut(a2, ui + 2, folded, mult, shift, outZp, lo, hi));
      store<i8>(o + 3, unitOut(a3, ui + 3, folded, mult, shift, outZp, lo, hi));
    }
    // The units outside the blocks, one at a time.
    for (let u = u0; u < u1; u++) {
      if (u == uq) u = uqEnd;
      if (u >= u1) break;
      const ui = <usize>(u - chLo);
      const wr = channelBase(weights, ui, <usize>nd, blocked, nc);
      const step = channelStep(ui, blocked, nc);
      const acc = dot(xr, wr, step, t0, len);
      const k = rowOut + <usize>(u - u0);
      if (partial) {
        // Partial sums carry the zero-point term of their own range: Σ w * (x - zp).
        store<i32>(out + (k << 2), acc - zp * weightSum(wr, step, t0, len));
      } else {
        store<i8>(out + k, unitOut(acc, ui, folded, mult, shift, outZp, lo, hi));
      }
    }
  }
}

/** Output of unit index ui from its full-depth dot product: folded bias,
 * requantization, clamp. A function, not inlined at its five uses: once per
 * output it costs a call, inlined it cost agent-wasm3.wasm (wasm3's heap). */
function unitOut(acc: i32, ui: usize, folded: usize, mult: usize, shift: usize, outZp: i32, lo: i32, hi: i32): i8 {
  return <i8>requantize(acc + load<i32>(folded + (ui << 2)), load<i32>(mult + (ui << 2)), load<i32>(shift + (ui << 2)), outZp, lo, hi);
}

/** FC_REDUCE: input 0 holds C_PARTS int32 arrays shaped like the box. */
export function reduceFc(rec: usize, call: usize): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  const u0 = word(call, C_BOX_START + 1);
  const u1 = word(call, C_BOX_END + 1);
  if (u0 < word(rec, W_CH_LO) || u1 > word(rec, W_CH_HI)) return CHANNELS_NOT_LOADED;
  const parts = word(call, C_PARTS);
  if (parts < 1) return BAD_CALL;
  const elems = boxElems(call);
  const inBytes = elems * 4 * <u64>parts;
  const in0 = <u32>word(call, C_IN0);
  if (!regionInMemory(in0, inBytes)) return OUT_OF_MEMORY_BOUNDS;
  e = checkOutput(rec, call, elems, in0, inBytes, 0, 0);
  if (e != OK) return e;
  const nb = boxDim(call, 0);
  const nu = u1 - u0;
  const chLo = word(rec, W_CH_LO);
  const outZp = word(rec, W_OUT_ZP);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const bias = rec + <usize>word(rec, W_BIAS);
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  const stride = <usize>elems << 2;
  const src = <usize>in0;
  const out = <usize>(<u32>word(call, C_OUT));
  for (let b = 0; b < nb; b++) {
    for (let j = 0; j < nu; j++) {
      const k = <usize>(b * nu + j);
      const ui = <usize>(u0 + j - chLo);
      let acc = load<i32>(bias + (ui << 2));
      for (let p = 0; p < parts; p++) acc += load<i32>(src + <usize>p * stride + (k << 2));
      store<i8>(out + k, <i8>requantize(acc, load<i32>(mult + (ui << 2)), load<i32>(shift + (ui << 2)), outZp, lo, hi));
    }
  }
  return OK;
}
