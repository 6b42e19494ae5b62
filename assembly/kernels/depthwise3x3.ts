// 3x3 depthwise, four output channels at a time over every pixel of the
// box: the block's nine weight words are read once and rearranged into 16-bit
// halves (lanes 0 and 2 in one word, 1 and 3 in the other), kept in module
// globals, and every pixel is computed from them with 16-bit
// multiply-accumulates that read either half of a word, so no weight lane is
// unpacked per pixel (on the M4: smlabb, smlatt).
//
// An interior pixel is one call of pixelLifted / pixelShared: a function with
// few live values (the window's address, its two steps, four accumulators),
// so the C compiler keeps them in registers and reloads each weight half from
// the globals where it is used (one load), instead of spilling everything the
// block holds (on the M4 about 13 registers are free; nine weight words are
// 18 halves).
//
// A pixel whose window crosses the input's edge takes the same arithmetic: its
// nine input words are gathered into WINDOW, with the input zero point in
// every lane of the taps outside the input. Such a tap then adds
// (zp - zp) * w = 0 to Σ (x - zp) * w, which is what TFLM's skipping it means,
// and the bias can fold all nine taps' zero-point terms as the interior does.
// The arithmetic is inlined there, on WINDOW's constant addresses (no memory
// checks).
//
// depth multiplier 1: the four channels read four input channels, one word;
//   its lanes are moved to 0..255 (x + 128, an xor) so that a mask leaves
//   valid 16-bit halves, and 128 * sum(w) is taken off the bias.
// depth multiplier a multiple of 4: the four channels read one input value.
import {
  word, W_IN_SHAPE, W_IN_ZP, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT, W_DEPTH_MULT, W_CH_LO, W_CH_HI, W_WEIGHTS,
  W_FOLDED, W_MULT, W_SHIFT, C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT,
} from './layout';
import { quadOp, quadChannels, quadBiasAdd, quadOut } from './quad';

/** The nine input words of an edge pixel's window, row by row (pixel*(WINDOW, 4, 12)). */
const WINDOW: usize = memory.data(9 * 4, 4);

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
// The current block's weights: tap k's even halves ek, odd halves ok.
let e0 = 0, e1 = 0, e2 = 0, e3 = 0, e4 = 0, e5 = 0, e6 = 0, e7 = 0, e8 = 0;
let o0 = 0, o1 = 0, o2 = 0, o3 = 0, o4 = 0, o5 = 0, o6 = 0, o7 = 0, o8 = 0;

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
  let t = load<i32>(w);
  e0 = evenHalves(t); o0 = oddHalves(t);
  t = load<i32>(w + tapStride);
  e1 = evenHalves(t); o1 = oddHalves(t);
  t = load<i32>(w + 2 * tapStride);
  e2 = evenHalves(t); o2 = oddHalves(t);
  t = load<i32>(w + 3 * tapStride);
  e3 = evenHalves(t); o3 = oddHalves(t);
  t = load<i32>(w + 4 * tapStride);
  e4 = evenHalves(t); o4 = oddHalves(t);
  t = load<i32>(w + 5 * tapStride);
  e5 = evenHalves(t); o5 = oddHalves(t);
  t = load<i32>(w + 6 * tapStride);
  e6 = evenHalves(t); o6 = oddHalves(t);
  t = load<i32>(w + 7 * tapStride);
  e7 = evenHalves(t); o7 = oddHalves(t);
  t = load<i32>(w + 8 * tapStride);
  e8 = evenHalves(t); o8 = oddHalves(t);
  quadChannels(folded, mult, shift, ci);
  const shared = dm != 1;
  if (!shared) {
    // Depth multiplier 1 sums (x + 128) * w = x * w + 128 * w.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let k = 0; k < 9; k++) {
      const v = load<i32>(w + <usize>k * tapStride);
      s0 += laneSum(v, 0);
      s1 += laneSum(v, 1);
      s2 += laneSum(v, 2);
      s3 += laneSum(v, 3);
    }
    quadBiasAdd(-128 * s0, -128 * s1, -128 * s2, -128 * s3);
  }
  const rowStep = <usize>dh * rowStride;
  const colStep = <usize>dw * pixStride;
  // Input column of the block's channels: its own four, or the one they share.
  const inC = <usize>((shared ? c / dm : c) - tc);
  const outPix = <usize>bc;
  const pixStep = <usize>sw * pixStride;
  const mask = halves;
  // The word an edge tap outside the input reads: zp in every lane.
  const pad = (zp & 0xff) * 0x01010101;
  for (let n = n0; n < n1; n++) {
    const plane = tile + <usize>(n - tn) * planeStride + inC;
    for (let y = ya; y < yb; y++) {
      let r = plane + <usize>(y * sh - pt - ty) * rowStride + <usize>(xa * sw - pl - tx) * pixStride;
      let o = out + <usize>(((n - n0) * bh + (y - y0)) * bw + (xa - x0)) * outPix + <usize>(c - c0);
      if (shared) {
        for (let x = xa; x < xb; x++) {
          store<i32>(o, pixelShared(r, colStep, rowStep));
          r += pixStep;
          o += outPix;
        }
      } else {
        for (let x = xa; x < xb; x++) {
          store<i32>(o, pixelLifted(r, colStep, rowStep, mask));
          r += pixStep;
          o += outPix;
        }
      }
    }
    for (let y = y0; y < y1; y++) {
      const inner = y >= ya && y < yb;
      const rowOut = out + <usize>(((n - n0) * bh + (y - y0)) * bw) * outPix + <usize>(c - c0);
      // A row inside [ya, yb) has its edge pixels left of xa and from xb on; any other row is all edge.
      const leftEnd = inner ? xa : x1;
      for (let x = x0; x < leftEnd; x++) edgePixel(plane, y, x, rowOut + <usize>(x - x0) * outPix, shared, pad, mask);
      if (inner) for (let x = xb; x < x1; x++) edgePixel(plane, y, x, rowOut + <usize>(x - x0) * outPix, shared, pad, mask);
    }
  }
}

/** Pixel (y, x) of the block, whose window crosses the input's edge: its nine
 * taps gathered into WINDOW (a word of four channels, or one shared value,
 * per tap; `pad` for a tap outside the input), then the interior arithmetic on it. */
function edgePixel(plane: usize, y: i32, x: i32, o: usize, shared: bool, pad: i32, mask: i32): void {
  const iy0 = y * sh - pt, ix0 = x * sw - pl;
  // Which of the window's three columns lie inside the input, and their offsets in a row.
  const in0 = <u32>ix0 < <u32>inW, in1 = <u32>(ix0 + dw) < <u32>inW, in2 = <u32>(ix0 + 2 * dw) < <u32>inW;
  const col0 = <usize>(ix0 - tx) * pixStride, col1 = col0 + <usize>dw * pixStride, col2 = col1 + <usize>dw * pixStride;
  let iy = iy0;
  let row = plane + <usize>(iy - ty) * rowStride;
  const rowStep = <usize>dh * rowStride;
  for (let k: usize = 0; k < 36; k += 12) {
    let v0 = pad, v1 = pad, v2 = pad;
    if (<u32>iy < <u32>inH) {
      if (shared) {
        if (in0) v0 = <i32>load<i8>(row + col0);
        if (in1) v1 = <i32>load<i8>(row + col1);
        if (in2) v2 = <i32>load<i8>(row + col2);
      } else {
        if (in0) v0 = load<i32>(row + col0);
        if (in1) v1 = load<i32>(row + col1);
        if (in2) v2 = load<i32>(row + col2);
      }
    }
    store<i32>(WINDOW + k, v0);
    store<i32>(WINDOW + k, v1, 4);
    store<i32>(WINDOW + k, v2, 8);
    iy += dh;
    row += rowStep;
  }
  // Inlined here: WINDOW's taps are at constant addresses, which need no memory check.
  store<i32>(o, shared ? sharedWindow(WINDOW, 4, 12) : liftedWindow(WINDOW, 4, 12, mask));
}

/** The block's packed output for the window at p (depth multiplier 1): taps
 * p + ky * rs + kx * cs, their lanes lifted to x + 128 (the bias took off 128 * Σw). */
// @ts-ignore: decorator
@inline function liftedWindow(p: usize, cs: usize, rs: usize, mask: i32): i32 {
  let u = load<i32>(p) ^ 0x80808080;
  let ue = u & mask, uo = (u >> 8) & mask;
  let a0 = lo16(ue) * lo16(e0), a2 = hi16(ue) * hi16(e0), a1 = lo16(uo) * lo16(o0), a3 = hi16(uo) * hi16(o0);
  u = load<i32>(p + cs) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e1); a2 += hi16(ue) * hi16(e1); a1 += lo16(uo) * lo16(o1); a3 += hi16(uo) * hi16(o1);
  u = load<i32>(p + 2 * cs) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e2); a2 += hi16(ue) * hi16(e2); a1 += lo16(uo) * lo16(o2); a3 += hi16(uo) * hi16(o2);
  p += rs;
  u = load<i32>(p) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e3); a2 += hi16(ue) * hi16(e3); a1 += lo16(uo) * lo16(o3); a3 += hi16(uo) * hi16(o3);
  u = load<i32>(p + cs) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e4); a2 += hi16(ue) * hi16(e4); a1 += lo16(uo) * lo16(o4); a3 += hi16(uo) * hi16(o4);
  u = load<i32>(p + 2 * cs) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e5); a2 += hi16(ue) * hi16(e5); a1 += lo16(uo) * lo16(o5); a3 += hi16(uo) * hi16(o5);
  p += rs;
  u = load<i32>(p) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e6); a2 += hi16(ue) * hi16(e6); a1 += lo16(uo) * lo16(o6); a3 += hi16(uo) * hi16(o6);
  u = load<i32>(p + cs) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e7); a2 += hi16(ue) * hi16(e7); a1 += lo16(uo) * lo16(o7); a3 += hi16(uo) * hi16(o7);
  u = load<i32>(p + 2 * cs) ^ 0x80808080;
  ue = u & mask; uo = (u >> 8) & mask;
  a0 += lo16(ue) * lo16(e8); a2 += hi16(ue) * hi16(e8); a1 += lo16(uo) * lo16(o8); a3 += hi16(uo) * hi16(o8);
  return quadOut(a0, a1, a2, a3);
}

/** The block's packed output for the window at p (depth multiplier a multiple of 4): one input value per tap feeds the four channels. */
// @ts-ignore: decorator
@inline function sharedWindow(p: usize, cs: usize, rs: usize): i32 {
  let v = <i32>load<i8>(p);
  let a0 = v * lo16(e0), a2 = v * hi16(e0), a1 = v * lo16(o0), a3 = v * hi16(o0);
  v = <i32>load<i8>(p + cs);
  a0 += v * lo16(e1); a2 += v * hi16(e1); a1 += v * lo16(o1); a3 += v * hi16(o1);
  v = <i32>load<i8>(p + 2 * cs);
  a0 += v * lo16(e2); a2 += v * hi16(e2); a1 += v * lo16(o2); a3 += v * hi16(o2);
  p += rs;
  v = <i32>load<i8>(p);
  a0 += v * lo16(e3); a2 += v * hi16(e3); a1 += v * lo16(o3); a3 += v * hi16(o3);
  v = <i32>load<i8>(p + cs);
  a0 += v * lo16(e4); a2 += v * hi16(e4); a1 += v * lo16(o4); a3 += v * hi16(o4);
  v = <i32>load<i8>(p + 2 * cs);
  a0 += v * lo16(e5); a2 += v * hi16(e5); a1 += v * lo16(o5); a3 += v * hi16(o5);
  p += rs;
  v = <i32>load<i8>(p);
  a0 += v * lo16(e6); a2 += v * hi16(e6); a1 += v * lo16(o6); a3 += v * hi16(o6);
  v = <i32>load<i8>(p + cs);
  a0 += v * lo16(e7); a2 += v * hi16(e7); a1 += v * lo16(o7); a3 += v * hi16(o7);
  v = <i32>load<i8>(p + 2 * cs);
  a0 += v * lo16(e8); a2 += v * hi16(e8); a1 += v * lo16(o8); a3 += v * hi16(o8);
  return quadOut(a0, a1, a2, a3);
}

/** liftedWindow as a function: the interior loop calls it, so the C compiler
 * allocates registers for one pixel, not for the loop around it. */
function pixelLifted(p: usize, cs: usize, rs: usize, mask: i32): i32 {
  return liftedWindow(p, cs, rs, mask);
}

/** sharedWindow as a function, for the interior loop. */
function pixelShared(p: usize, cs: usize, rs: usize): i32 {
  return sharedWindow(p, cs, rs);
}
