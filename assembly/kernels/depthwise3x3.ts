// 3x3 depthwise, four output channels at a time over every pixel of the
// box: the block's nine weight words are read once, rearranged into 16-bit
// halves (lanes 0 and 2 in one word, 1 and 3 in the other) and kept in
// locals, and every interior pixel is computed from them with 16-bit
// multiply-accumulates that read either half of a word, so no weight lane is
// unpacked per pixel (on the M4: smlabb, smlatt). Pixels whose window crosses
// the input's edge take dw3x3Edge.
//
// depth multiplier 1: the four channels read four input channels, one word;
//   its lanes are moved to 0..255 (x + 128, an xor) so that a mask leaves
//   valid 16-bit halves, and 128 * sum(w) is taken off the bias.
// depth multiplier a multiple of 4: the four channels read one input value.
import {
  word, W_IN_SHAPE, W_IN_ZP, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT, W_DEPTH_MULT, W_CH_LO, W_CH_HI, W_WEIGHTS,
  W_FOLDED, W_MULT, W_SHIFT, C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT,
} from './layout';
import { lane0, lane1, lane2, lane3 } from './lanes';
import { firstTap, endTap } from './conv';
import { quadOp, quadChannels, quadBiasAdd, quadOut } from './quad';

/** The 16-bit halves [lane0, lane2] of a word of four int8 lanes, sign-extended. */
// @ts-ignore: decorator
@inline function evenHalves(w: i32): i32 {
  return (<i32><i8>w & 0xffff) | (<i32><i8>(w >> 16) << 16);
}

/** The 16-bit halves [lane1, lane3], sign-extended. */
// @ts-ignore: decorator
@inline function oddHalves(w: i32): i32 {
  return (<i32><i8>(w >> 8) & 0xffff) | ((w >> 24) << 16);
}

// @ts-ignore: decorator
@inline function lo16(v: i32): i32 {
  return <i32><i16>v;
}

// @ts-ignore: decorator
@inline function hi16(v: i32): i32 {
  return v >> 16;
}

// @ts-ignore: decorator
@inline function laneSum(w: i32, k: i32): i32 {
  return <i32><i8>(w >> (k << 3));
}

// The geometry of the current call (dw3x3Setup).
let n0 = 0, n1 = 0, ya = 0, yb = 0, xa = 0, xb = 0, y1 = 0, x1 = 0;
let inH = 0, inW = 0, zp = 0;
let y0 = 0, x0 = 0, bh = 0, bw = 0, bc = 0, c0 = 0;
let tile: usize = 0, tn = 0, ty = 0, tx = 0, tc = 0;
let planeStride: usize = 0, rowStride: usize = 0, pixStride: usize = 0;
let sh = 0, sw = 0, dh = 0, dw = 0, pt = 0, pl = 0, dm = 1;
let out: usize = 0, weights: usize = 0, nc = 0, chLo = 0;
let folded: usize = 0, mult: usize = 0, shift: usize = 0;
// 0x00ff00ff, read at run time: a mask the C compiler cannot prove leaves a
// non-negative word, so `(u & mask) >> 16` stays an arithmetic shift and
// gcc fuses it into the top-half multiply-accumulate (smlatt on the M4). The
// odd lanes are `(u >> 8) & mask` for the same reason (`>>>` would let gcc
// see a clear sign bit).
let halves = 0;
// What the block's bias takes off per channel for all nine taps' zero-point
// (and lift) terms; an edge pixel starts from it (dw3x3Edge).
let edgeK0 = 0, edgeK1 = 0, edgeK2 = 0, edgeK3 = 0;

/** Reads the call's geometry; [ia, ib) x [ja, jb) are the interior rows and columns of the box (may be empty). */
export function dw3x3Setup(rec: usize, call: usize, ia: i32, ib: i32, ja: i32, jb: i32): void {
  n0 = word(call, C_BOX_START); n1 = word(call, C_BOX_END);
  y0 = word(call, C_BOX_START + 1); x0 = word(call, C_BOX_START + 2); c0 = word(call, C_BOX_START + 3);
  bh = word(call, C_BOX_END + 1) - y0; bw = word(call, C_BOX_END + 2) - x0; bc = word(call, C_BOX_END + 3) - c0;
  ya = ia; yb = ib; xa = ja; xb = jb; y1 = y0 + bh; x1 = x0 + bw;
  inH = word(rec, W_IN_SHAPE + 1); inW = word(rec, W_IN_SHAPE + 2); zp = word(rec, W_IN_ZP);
  tile = <usize>(<u32>word(call, C_IN0));
  tn = word(call, C_IN0_ORIGIN); ty = word(call, C_IN0_ORIGIN + 1); tx = word(call, C_IN0_ORIGIN + 2); tc = word(call, C_IN0_ORIGIN + 3);
  pixStride = <usize>word(call, C_IN0_EXTENT + 3);
  rowStride = <usize>word(call, C_IN0_EXTENT + 2) * pixStride;
  planeStride = <usize>word(call, C_IN0_EXTENT + 1) * rowStride;
  sh = word(rec, W_STRIDE_H); sw = word(rec, W_STRIDE_W); dh = word(rec, W_DIL_H); dw = word(rec, W_DIL_W);
  pt = word(rec, W_PAD_TOP); pl = word(rec, W_PAD_LEFT); dm = word(rec, W_DEPTH_MULT);
  out = <usize>(<u32>word(call, C_OUT));
  weights = rec + <usize>word(rec, W_WEIGHTS);
  chLo = word(rec, W_CH_LO);
  nc = word(rec, W_CH_HI) - chLo;
  folded = rec + <usize>word(rec, W_FOLDED);
  mult = rec + <usize>word(rec, W_MULT);
  shift = rec + <usize>word(rec, W_SHIFT);
  quadOp(rec);
  // c0 >= 0 (checkBox), so this is 0x00ff00ff.
  halves = 0x00ff00ff | (c0 >>> 31);
}

/** Output channels [c, c + 4) over every pixel of the box. */
export function dw3x3Block(c: i32): void {
  const ci = <usize>(c - chLo);
  const tapStride = <usize>nc;
  const w = weights + ci;
  const t0 = load<i32>(w), t1 = load<i32>(w + tapStride), t2 = load<i32>(w + 2 * tapStride);
  const t3 = load<i32>(w + 3 * tapStride), t4 = load<i32>(w + 4 * tapStride), t5 = load<i32>(w + 5 * tapStride);
  const t6 = load<i32>(w + 6 * tapStride), t7 = load<i32>(w + 7 * tapStride), t8 = load<i32>(w + 8 * tapStride);
  const e0 = evenHalves(t0), e1 = evenHalves(t1), e2 = evenHalves(t2), e3 = evenHalves(t3), e4 = evenHalves(t4);
  const e5 = evenHalves(t5), e6 = evenHalves(t6), e7 = evenHalves(t7), e8 = evenHalves(t8);
  const o0 = oddHalves(t0), o1 = oddHalves(t1), o2 = oddHalves(t2), o3 = oddHalves(t3), o4 = oddHalves(t4);
  const o5 = oddHalves(t5), o6 = oddHalves(t6), o7 = oddHalves(t7), o8 = oddHalves(t8);
  quadChannels(folded, mult, shift, ci);
  const shared = dm != 1;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let k = 0; k < 9; k++) {
    const t = load<i32>(w + <usize>k * tapStride);
    s0 += laneSum(t, 0);
    s1 += laneSum(t, 1);
    s2 += laneSum(t, 2);
    s3 += laneSum(t, 3);
  }
  // Depth multiplier 1 sums (x + 128) * w = x * w + 128 * w.
  const lift = shared ? 0 : 128;
  quadBiasAdd(-lift * s0, -lift * s1, -lift * s2, -lift * s3);
  edgeK0 = (zp + lift) * s0;
  edgeK1 = (zp + lift) * s1;
  edgeK2 = (zp + lift) * s2;
  edgeK3 = (zp + lift) * s3;
  const rowStep = <usize>dh * rowStride;
  const colStep = <usize>dw * pixStride;
  // Input column of the block's channels: its own four, or the one they share.
  const inC = <usize>((shared ? c / dm : c) - tc);
  const outPix = <usize>bc;
  const pixStep = <usize>sw * pixStride;
  const mask = halves;
  for (let n = n0; n < n1; n++) {
    const plane = tile + <usize>(n - tn) * planeStride + inC;
    for (let y = ya; y < yb; y++) {
      let r0 = plane + <usize>(y * sh - pt - ty) * rowStride + <usize>(xa * sw - pl - tx) * pixStride;
      let o = out + <usize>(((n - n0) * bh + (y - y0)) * bw + (xa - x0)) * outPix + <usize>(c - c0);
      for (let x = xa; x < xb; x++) {
        const r1 = r0 + rowStep, r2 = r1 + rowStep;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (shared) {
          let v = <i32>load<i8>(r0);
          a0 += v * lo16(e0); a2 += v * hi16(e0); a1 += v * lo16(o0); a3 += v * hi16(o0);
          v = <i32>load<i8>(r0 + colStep);
          a0 += v * lo16(e1); a2 += v * hi16(e1); a1 += v * lo16(o1); a3 += v * hi16(o1);
          v = <i32>load<i8>(r0 + 2 * colStep);
          a0 += v * lo16(e2); a2 += v * hi16(e2); a1 += v * lo16(o2); a3 += v * hi16(o2);
          v = <i32>load<i8>(r1);
          a0 += v * lo16(e3); a2 += v * hi16(e3); a1 += v * lo16(o3); a3 += v * hi16(o3);
          v = <i32>load<i8>(r1 + colStep);
          a0 += v * lo16(e4); a2 += v * hi16(e4); a1 += v * lo16(o4); a3 += v * hi16(o4);
          v = <i32>load<i8>(r1 + 2 * colStep);
          a0 += v * lo16(e5); a2 += v * hi16(e5); a1 += v * lo16(o5); a3 += v * hi16(o5);
          v = <i32>load<i8>(r2);
          a0 += v * lo16(e6); a2 += v * hi16(e6); a1 += v * lo16(o6); a3 += v * hi16(o6);
          v = <i32>load<i8>(r2 + colStep);
          a0 += v * lo16(e7); a2 += v * hi16(e7); a1 += v * lo16(o7); a3 += v * hi16(o7);
          v = <i32>load<i8>(r2 + 2 * colStep);
          a0 += v * lo16(e8); a2 += v * hi16(e8); a1 += v * lo16(o8); a3 += v * hi16(o8);
        } else {
          let u = load<i32>(r0) ^ 0x80808080;
          let ue = u & mask, uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e0); a2 += hi16(ue) * hi16(e0); a1 += lo16(uo) * lo16(o0); a3 += hi16(uo) * hi16(o0);
          u = load<i32>(r0 + colStep) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e1); a2 += hi16(ue) * hi16(e1); a1 += lo16(uo) * lo16(o1); a3 += hi16(uo) * hi16(o1);
          u = load<i32>(r0 + 2 * colStep) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e2); a2 += hi16(ue) * hi16(e2); a1 += lo16(uo) * lo16(o2); a3 += hi16(uo) * hi16(o2);
          u = load<i32>(r1) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e3); a2 += hi16(ue) * hi16(e3); a1 += lo16(uo) * lo16(o3); a3 += hi16(uo) * hi16(o3);
          u = load<i32>(r1 + colStep) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e4); a2 += hi16(ue) * hi16(e4); a1 += lo16(uo) * lo16(o4); a3 += hi16(uo) * hi16(o4);
          u = load<i32>(r1 + 2 * colStep) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e5); a2 += hi16(ue) * hi16(e5); a1 += lo16(uo) * lo16(o5); a3 += hi16(uo) * hi16(o5);
          u = load<i32>(r2) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e6); a2 += hi16(ue) * hi16(e6); a1 += lo16(uo) * lo16(o6); a3 += hi16(uo) * hi16(o6);
          u = load<i32>(r2 + colStep) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e7); a2 += hi16(ue) * hi16(e7); a1 += lo16(uo) * lo16(o7); a3 += hi16(uo) * hi16(o7);
          u = load<i32>(r2 + 2 * colStep) ^ 0x80808080;
          ue = u & mask; uo = (u >> 8) & mask;
          a0 += lo16(ue) * lo16(e8); a2 += hi16(ue) * hi16(e8); a1 += lo16(uo) * lo16(o8); a3 += hi16(uo) * hi16(o8);
        }
        store<i32>(o, quadOut(a0, a1, a2, a3));
        r0 += pixStep;
        o += outPix;
      }
    }
    for (let y = y0; y < y1; y++) {
      const inner = y >= ya && y < yb;
      for (let x = x0; x < x1; x++) if (!inner || x < xa || x >= xb) dw3x3Edge(c, ci, n, y, x);
    }
  }
}

/** One pixel of the block whose window crosses the input's edge: only the
 * taps inside the input count (TFLM skips the others). The block's bias has
 * every tap's zero-point term folded in, so the accumulators start from
 * those terms (edgeK) and add Σ (x - zp) * w over the valid taps. */
function dw3x3Edge(c: i32, ci: usize, n: i32, y: i32, x: i32): void {
  const shared = dm != 1;
  const plane = tile + <usize>(n - tn) * planeStride + <usize>((shared ? c / dm : c) - tc);
  const w = weights + ci;
  const iy0 = y * sh - pt, ix0 = x * sw - pl;
  const kyA = firstTap(iy0, dh), kyB = endTap(iy0, dh, 3, inH);
  const kxA = firstTap(ix0, dw), kxB = endTap(ix0, dw, 3, inW);
  let a0 = edgeK0, a1 = edgeK1, a2 = edgeK2, a3 = edgeK3;
  for (let ky = kyA; ky < kyB; ky++) {
    const row = plane + <usize>(iy0 + ky * dh - ty) * rowStride;
    for (let kx = kxA; kx < kxB; kx++) {
      const t = load<i32>(w + <usize>(ky * 3 + kx) * <usize>nc);
      const p = row + <usize>(ix0 + kx * dw - tx) * pixStride;
      if (shared) {
        const v = <i32>load<i8>(p) - zp;
        a0 += v * lane0(t); a1 += v * lane1(t); a2 += v * lane2(t); a3 += v * lane3(t);
      } else {
        const v = load<i32>(p);
        a0 += (lane0(v) - zp) * lane0(t); a1 += (lane1(v) - zp) * lane1(t);
        a2 += (lane2(v) - zp) * lane2(t); a3 += (lane3(v) - zp) * lane3(t);
      }
    }
  }
  store<i32>(out + <usize>(((n - n0) * bh + (y - y0)) * bw + (x - x0)) * <usize>bc + <usize>(c - c0), quadOut(a0, a1, a2, a3));
}
