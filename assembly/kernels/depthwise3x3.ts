// The interior of a 3x3 depthwise fragment, four output channels at a time:
// the block's nine weight words are read once, rearranged into 16-bit halves
// (lanes 0 and 2 in one word, 1 and 3 in the other) and kept in locals, and
// every interior pixel of the box is then computed from them. A 16-bit
// multiply-accumulate reads either half of a word, so no weight lane is
// unpacked per pixel (on the M4: smlabb, smlatt).
//
// depth multiplier 1: the four channels read four input channels, one word;
//   its lanes are moved to 0..255 (x + 128, an xor) so that a mask leaves
//   valid 16-bit halves, and 128 * Σw is taken off the bias.
// depth multiplier a multiple of 4: the four channels read one input value.
import {
  word, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT, W_DEPTH_MULT, W_CH_LO, W_CH_HI, W_WEIGHTS,
  W_FOLDED, W_MULT, W_SHIFT, C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT,
} from './layout';
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
let n0 = 0, n1 = 0, ya = 0, yb = 0, xa = 0, xb = 0;
let y0 = 0, x0 = 0, bh = 0, bw = 0, bc = 0, c0 = 0;
let tile: usize = 0, tn = 0, ty = 0, tx = 0, tc = 0;
let planeStride: usize = 0, rowStride: usize = 0, pixStride: usize = 0;
let sh = 0, sw = 0, dh = 0, dw = 0, pt = 0, pl = 0, dm = 1;
let out: usize = 0, weights: usize = 0, nc = 0, chLo = 0;
let folded: usize = 0, mult: usize = 0, shift: usize = 0;

/** Reads the call's geometry; [ia, ib) x [ja, jb) are the interior rows and columns of the box. */
export function dw3x3Setup(rec: usize, call: usize, ia: i32, ib: i32, ja: i32, jb: i32): void {
  n0 = word(call, C_BOX_START); n1 = word(call, C_BOX_END);
  y0 = word(call, C_BOX_START + 1); x0 = word(call, C_BOX_START + 2); c0 = word(call, C_BOX_START + 3);
  bh = word(call, C_BOX_END + 1) - y0; bw = word(call, C_BOX_END + 2) - x0; bc = word(call, C_BOX_END + 3) - c0;
  ya = ia; yb = ib; xa = ja; xb = jb;
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
}

/** Output channels [c, c + 4) over every interior pixel of the box. */
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
  if (!shared) {
    // Σ (x + 128) w = Σ x w + 128 Σ w.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let k = 0; k < 9; k++) {
      const t = load<i32>(w + <usize>k * tapStride);
      s0 += laneSum(t, 0);
      s1 += laneSum(t, 1);
      s2 += laneSum(t, 2);
      s3 += laneSum(t, 3);
    }
    quadBiasAdd(-128 * s0, -128 * s1, -128 * s2, -128 * s3);
  }
  const rowStep = <usize>dh * rowStride;
  const colStep = <usize>dw * pixStride;
  // Input column of the block's channels: its own four, or the one they share.
  const inC = <usize>((shared ? c / dm : c) - tc);
  const outPix = <usize>bc;
  const pixStep = <usize>sw * pixStride;
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
          let ue = u & 0x00ff00ff, uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e0); a2 += hi16(ue) * hi16(e0); a1 += lo16(uo) * lo16(o0); a3 += hi16(uo) * hi16(o0);
          u = load<i32>(r0 + colStep) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e1); a2 += hi16(ue) * hi16(e1); a1 += lo16(uo) * lo16(o1); a3 += hi16(uo) * hi16(o1);
          u = load<i32>(r0 + 2 * colStep) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e2); a2 += hi16(ue) * hi16(e2); a1 += lo16(uo) * lo16(o2); a3 += hi16(uo) * hi16(o2);
          u = load<i32>(r1) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e3); a2 += hi16(ue) * hi16(e3); a1 += lo16(uo) * lo16(o3); a3 += hi16(uo) * hi16(o3);
          u = load<i32>(r1 + colStep) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e4); a2 += hi16(ue) * hi16(e4); a1 += lo16(uo) * lo16(o4); a3 += hi16(uo) * hi16(o4);
          u = load<i32>(r1 + 2 * colStep) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e5); a2 += hi16(ue) * hi16(e5); a1 += lo16(uo) * lo16(o5); a3 += hi16(uo) * hi16(o5);
          u = load<i32>(r2) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e6); a2 += hi16(ue) * hi16(e6); a1 += lo16(uo) * lo16(o6); a3 += hi16(uo) * hi16(o6);
          u = load<i32>(r2 + colStep) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e7); a2 += hi16(ue) * hi16(e7); a1 += lo16(uo) * lo16(o7); a3 += hi16(uo) * hi16(o7);
          u = load<i32>(r2 + 2 * colStep) ^ 0x80808080;
          ue = u & 0x00ff00ff; uo = (u >>> 8) & 0x00ff00ff;
          a0 += lo16(ue) * lo16(e8); a2 += hi16(ue) * hi16(e8); a1 += lo16(uo) * lo16(o8); a3 += hi16(uo) * hi16(o8);
        }
        store<i32>(o, quadOut(a0, a1, a2, a3));
        r0 += pixStep;
        o += outPix;
      }
    }
  }
}
