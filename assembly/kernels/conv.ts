// CONV_2D fragment: output box [n0,n1) x [y0,y1) x [x0,x1) x [c0,c1) of a
// per-channel int8 convolution (ARITHMETIC.md §4). Interior pixels, whose
// windows lie wholly inside the input, use the bias with the input zero point
// folded in; border pixels skip the taps outside the input as TFLM does.
//
// When the input depth is a multiple of 4 the record's full blocks of four
// channels are interleaved by words (ABI.md, "Weight slice layouts"): the
// four weight words that meet one input word sit at one address, 4 bytes
// apart, so the interior loop walks one weight pointer instead of four rows
// `taps` apart (on the M4 that frees the registers the row offsets took).
import {
  word, W_IN_SHAPE, W_OUT_SHAPE, W_KH, W_KW, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT,
  W_IN_ZP, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX, W_CH_LO, W_CH_HI, W_WEIGHTS, W_BIAS, W_FOLDED, W_MULT, W_SHIFT,
  C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, OK, CHANNELS_NOT_LOADED,
} from './layout';
import { checkBox, checkOutput, boxElems, tileRegionBytes } from './bounds';
import { checkWindowRecord, checkWindowTile, clampTo, interiorLo, interiorHi } from './window';
import { checkChannelConstants, channelEntry } from './channels';
import { lane0, lane1, lane2, lane3 } from './lanes';
import { requantize } from './requant';
import { quadOp, quadChannels, quadOut } from './quad';
import { channelBase, channelStep, firstQuad, weightAt } from './blocks';

export function checkConv(rec: usize): i32 {
  const e = checkWindowRecord(rec);
  if (e != OK) return e;
  const taps = <u64>word(rec, W_KH) * <u64>word(rec, W_KW) * <u64>word(rec, W_IN_SHAPE + 3);
  const nc = <u64>(word(rec, W_CH_HI) - word(rec, W_CH_LO));
  return checkChannelConstants(rec, word(rec, W_OUT_SHAPE + 3), nc * taps);
}

/** folded[c] = bias[c] - inZp * sum(w[c]). */
export function foldConv(rec: usize): void {
  const inC = word(rec, W_IN_SHAPE + 3);
  const taps = <usize>(word(rec, W_KH) * word(rec, W_KW) * inC);
  const zp = word(rec, W_IN_ZP);
  const lo = word(rec, W_CH_LO);
  const hi = word(rec, W_CH_HI);
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const blocked = isBlocked(inC);
  for (let c = lo; c < hi; c++) {
    const ci = <usize>(c - lo);
    const w = channelBase(weights, ci, taps, blocked, hi - lo);
    const step = channelStep(ci, blocked, hi - lo);
    let s = 0;
    for (let t: usize = 0; t < taps; t++) s += weightAt(w, step, t);
    store<i32>(channelEntry(rec, W_FOLDED, c), load<i32>(channelEntry(rec, W_BIAS, c)) - zp * s);
  }
}

/** Whether a record of this input depth holds its full channel blocks interleaved (ABI.md). */
// @ts-ignore: decorator
@inline function isBlocked(inC: i32): bool {
  return (inC & 3) == 0;
}

/** First tap index k in [0, kSize) with 0 <= i0 + k*dil, i.e. ceil(-i0 / dil) when i0 < 0. */
// @ts-ignore: decorator
@inline export function firstTap(i0: i32, dil: i32): i32 {
  return i0 >= 0 ? 0 : (-i0 + dil - 1) / dil;
}

/** One past the last tap k with i0 + k*dil < size, at most kSize. */
// @ts-ignore: decorator
@inline export function endTap(i0: i32, dil: i32, kSize: i32, size: i32): i32 {
  if (i0 >= size) return 0;
  const k = (size - i0 + dil - 1) / dil;
  return k < kSize ? k : kSize;
}

export function runConv(rec: usize, call: usize): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  const c0 = word(call, C_BOX_START + 3);
  const c1 = word(call, C_BOX_END + 3);
  if (c0 < word(rec, W_CH_LO) || c1 > word(rec, W_CH_HI)) return CHANNELS_NOT_LOADED;
  const inC = word(rec, W_IN_SHAPE + 3);
  e = checkWindowTile(rec, call, 0, inC);
  if (e != OK) return e;
  const in0 = <u32>word(call, C_IN0);
  e = checkOutput(rec, call, boxElems(call), in0, tileRegionBytes(call, C_IN0_EXTENT, 1), 0, 0);
  if (e != OK) return e;
  convBox(rec, call);
  return OK;
}

// Window geometry of the current call, as segments of contiguous bytes that
// the input and the weights share: one segment per filter row when the
// columns are adjacent (dilation 1), else one per tap. Set by convBox.
let segCount = 0;
let segLen = 0;
let segKw = 1;
let segColStep = 0;
let segRowStep = 0;
// The tile of the current call: origin row/column and bytes per tile row.
let curTy = 0;
let curTx = 0;
let curRowStride = 0;

/** Input offset of segment s inside the window. */
// @ts-ignore: decorator
@inline function segIn(s: i32): usize {
  return segKw == 1 ? <usize>(s * segRowStep) : <usize>((s / segKw) * segRowStep + (s % segKw) * segColStep);
}

/** Requantized and clamped int8 of an accumulator for channel index ci. */
// @ts-ignore: decorator
@inline function finish(acc: i32, ci: usize, mult: usize, shift: usize, outZp: i32, lo: i32, hi: i32): i8 {
  return <i8>requantize(acc, load<i32>(mult + (ci << 2)), load<i32>(shift + (ci << 2)), outZp, lo, hi);
}

/** Four lanes of x times four lanes of w, summed. */
// @ts-ignore: decorator
@inline function dot4(x0: i32, x1: i32, x2: i32, x3: i32, w: i32): i32 {
  return x0 * lane0(w) + x1 * lane1(w) + x2 * lane2(w) + x3 * lane3(w);
}

/** `pairs` pairs of adjacent output pixels of one row, four channels (weights
 * at w, taps apart): the windows at p and p + pixStride, their packed outputs
 * at o and o + bc, then the next pair. Each weight word is loaded and
 * unpacked once for both pixels, each input word once for the four
 * channels; an accumulator takes one add per word of each pixel. One call per
 * row, not per pair: the call and the accumulators' way out cost less. */
function convPairs(p: usize, pixStride: usize, w: usize, taps: usize, o: usize, bc: usize, pairs: i32): void {
  const len = <usize>segLen;
  const words = len & ~3;
  for (let k = 0; k < pairs; k++) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let s = 0; s < segCount; s++) {
      let xp = p + segIn(s);
      let wp = w + <usize>s * len;
      const end = xp + words;
      while (xp < end) {
        const xv = load<i32>(xp), yv = load<i32>(xp + pixStride);
        const x0 = lane0(xv), x1 = lane1(xv), x2 = lane2(xv), x3 = lane3(xv);
        const y0 = lane0(yv), y1 = lane1(yv), y2 = lane2(yv), y3 = lane3(yv);
        let v = load<i32>(wp);
        a0 += dot4(x0, x1, x2, x3, v);
        b0 += dot4(y0, y1, y2, y3, v);
        v = load<i32>(wp + taps);
        a1 += dot4(x0, x1, x2, x3, v);
        b1 += dot4(y0, y1, y2, y3, v);
        v = load<i32>(wp + 2 * taps);
        a2 += dot4(x0, x1, x2, x3, v);
        b2 += dot4(y0, y1, y2, y3, v);
        v = load<i32>(wp + 3 * taps);
        a3 += dot4(x0, x1, x2, x3, v);
        b3 += dot4(y0, y1, y2, y3, v);
        xp += 4;
        wp += 4;
      }
      for (let i = words; i < len; i++) {
        const x = <i32>load<i8>(xp), y = <i32>load<i8>(xp + pixStride);
        const v0 = <i32>load<i8>(wp), v1 = <i32>load<i8>(wp + taps);
        const v2 = <i32>load<i8>(wp + 2 * taps), v3 = <i32>load<i8>(wp + 3 * taps);
        a0 += x * v0; a1 += x * v1; a2 += x * v2; a3 += x * v3;
        b0 += y * v0; b1 += y * v1; b2 += y * v2; b3 += y * v3;
        xp++;
        wp++;
      }
    }
    pairOut(o, bc, a0, a1, a2, a3, b0, b1, b2, b3);
    p += pixStride << 1;
    o += bc << 1;
  }
}

/** The packed outputs of a pixel pair (accumulators a and b) at o and o + bc: one
 * function for both pair loops, so the requantization is compiled once. */
function pairOut(o: usize, bc: usize, a0: i32, a1: i32, a2: i32, a3: i32, b0: i32, b1: i32, b2: i32, b3: i32): void {
  store<i32>(o, quadOut(a0, a1, a2, a3));
  store<i32>(o + bc, quadOut(b0, b1, b2, b3));
}

/** Σ x * w over the window at p for four channels, into acc0..acc3. */
function conv4(p: usize, w: usize, taps: usize): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  const len = <usize>segLen;
  const words = len & ~3;
  for (let s = 0; s < segCount; s++) {
    let xp = p + segIn(s);
    let wp = w + <usize>s * len;
    const end = xp + words;
    while (xp < end) {
      const xv = load<i32>(xp);
      const x0 = lane0(xv), x1 = lane1(xv), x2 = lane2(xv), x3 = lane3(xv);
      a0 += dot4(x0, x1, x2, x3, load<i32>(wp));
      a1 += dot4(x0, x1, x2, x3, load<i32>(wp + taps));
      a2 += dot4(x0, x1, x2, x3, load<i32>(wp + 2 * taps));
      a3 += dot4(x0, x1, x2, x3, load<i32>(wp + 3 * taps));
      xp += 4;
      wp += 4;
    }
    for (let i = words; i < len; i++) {
      const x = <i32>load<i8>(xp);
      a0 += x * <i32>load<i8>(wp); a1 += x * <i32>load<i8>(wp + taps);
      a2 += x * <i32>load<i8>(wp + 2 * taps); a3 += x * <i32>load<i8>(wp + 3 * taps);
      xp++;
      wp++;
    }
  }
  acc0 = a0;
  acc1 = a1;
  acc2 = a2;
  acc3 = a3;
}

/** convPairs on an interleaved block (weights at w): the four channels' words
 * of one input word at wp .. wp + 15, read as two 64-bit words (two memory
 * checks, not four). Segments are whole words. */
function convPairsBlocked(p: usize, pixStride: usize, w: usize, o: usize, bc: usize, pairs: i32): void {
  const len = <usize>segLen;
  for (let k = 0; k < pairs; k++) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let s = 0; s < segCount; s++) {
      let xp = p + segIn(s);
      let wp = w + <usize>s * (len << 2);
      const end = xp + len;
      while (xp < end) {
        const xv = load<i32>(xp), yv = load<i32>(xp + pixStride);
        const x0 = lane0(xv), x1 = lane1(xv), x2 = lane2(xv), x3 = lane3(xv);
        const y0 = lane0(yv), y1 = lane1(yv), y2 = lane2(yv), y3 = lane3(yv);
        const v01 = load<i64>(wp), v23 = load<i64>(wp, 8);
        let v = <i32>v01;
        a0 += dot4(x0, x1, x2, x3, v);
        b0 += dot4(y0, y1, y2, y3, v);
        v = <i32>(v01 >>> 32);
        a1 += dot4(x0, x1, x2, x3, v);
        b1 += dot4(y0, y1, y2, y3, v);
        v = <i32>v23;
        a2 += dot4(x0, x1, x2, x3, v);
        b2 += dot4(y0, y1, y2, y3, v);
        v = <i32>(v23 >>> 32);
        a3 += dot4(x0, x1, x2, x3, v);
        b3 += dot4(y0, y1, y2, y3, v);
        xp += 4;
        wp += 16;
      }
    }
    pairOut(o, bc, a0, a1, a2, a3, b0, b1, b2, b3);
    p += pixStride << 1;
    o += bc << 1;
  }
}

/** conv4 on an interleaved block (weights at w), into acc0..acc3. */
function conv4Blocked(p: usize, w: usize): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  const len = <usize>segLen;
  for (let s = 0; s < segCount; s++) {
    let xp = p + segIn(s);
    let wp = w + <usize>s * (len << 2);
    const end = xp + len;
    while (xp < end) {
      const xv = load<i32>(xp);
      const x0 = lane0(xv), x1 = lane1(xv), x2 = lane2(xv), x3 = lane3(xv);
      const v01 = load<i64>(wp), v23 = load<i64>(wp, 8);
      a0 += dot4(x0, x1, x2, x3, <i32>v01);
      a1 += dot4(x0, x1, x2, x3, <i32>(v01 >>> 32));
      a2 += dot4(x0, x1, x2, x3, <i32>v23);
      a3 += dot4(x0, x1, x2, x3, <i32>(v23 >>> 32));
      xp += 4;
      wp += 16;
    }
  }
  acc0 = a0;
  acc1 = a1;
  acc2 = a2;
  acc3 = a3;
}

/** One interior pixel (window at p), one channel (weights at w, `step` bytes from one word to the next). */
function interiorDot(p: usize, w: usize, step: usize): i32 {
  let acc = 0;
  const len = <usize>segLen;
  const words = len & ~3;
  for (let s = 0; s < segCount; s++) {
    let xp = p + segIn(s);
    // Segment s starts at tap s * len: a whole word when the layout is interleaved (step 16).
    let wp = w + <usize>s * len * (step >> 2);
    const end = xp + words;
    while (xp < end) {
      const xv = load<i32>(xp);
      const wv = load<i32>(wp);
      acc += lane0(xv) * lane0(wv) + lane1(xv) * lane1(wv) + lane2(xv) * lane2(wv) + lane3(xv) * lane3(wv);
      xp += 4;
      wp += step;
    }
    // Bytes past the last word: plain rows only (an interleaved layout's segments are whole words).
    for (let i = words; i < len; i++) {
      acc += <i32>load<i8>(xp) * <i32>load<i8>(wp);
      xp++;
      wp++;
    }
  }
  return acc;
}

function convBox(rec: usize, call: usize): void {
  const n0 = word(call, C_BOX_START), n1 = word(call, C_BOX_END);
  const y0 = word(call, C_BOX_START + 1), y1 = word(call, C_BOX_END + 1);
  const x0 = word(call, C_BOX_START + 2), x1 = word(call, C_BOX_END + 2);
  const c0 = word(call, C_BOX_START + 3), c1 = word(call, C_BOX_END + 3);
  const inH = word(rec, W_IN_SHAPE + 1), inW = word(rec, W_IN_SHAPE + 2), inC = word(rec, W_IN_SHAPE + 3);
  const kh = word(rec, W_KH), kw = word(rec, W_KW);
  const sh = word(rec, W_STRIDE_H), sw = word(rec, W_STRIDE_W);
  const dh = word(rec, W_DIL_H), dw = word(rec, W_DIL_W);
  const pt = word(rec, W_PAD_TOP), pl = word(rec, W_PAD_LEFT);
  const outZp = word(rec, W_OUT_ZP);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const chLo = word(rec, W_CH_LO);
  const tn = word(call, C_IN0_ORIGIN), ty = word(call, C_IN0_ORIGIN + 1), tx = word(call, C_IN0_ORIGIN + 2);
  const eh = word(call, C_IN0_EXTENT + 1), ew = word(call, C_IN0_EXTENT + 2);
  const tile = <usize>(<u32>word(call, C_IN0));
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const folded = rec + <usize>word(rec, W_FOLDED);
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  const taps = kh * kw * inC;
  const rowStride = ew * inC;
  const pixStride = <usize>(sw * inC);
  const bw = x1 - x0;
  const bc = <usize>(c1 - c0);
  const nc = word(rec, W_CH_HI) - chLo;
  const blocked = isBlocked(inC);
  const cq = firstQuad(c0, c1, chLo, blocked);
  const cqEnd = cq + ((c1 - cq) & ~3);
  curTy = ty;
  curTx = tx;
  curRowStride = rowStride;
  segRowStep = dh * rowStride;
  segColStep = dw * inC;
  if (dw == 1) {
    segCount = kh;
    segLen = kw * inC;
    segKw = 1;
  } else {
    segCount = kh * kw;
    segLen = inC;
    segKw = kw;
  }
  // Columns and rows whose whole window lies inside the input.
  const xa = clampTo(interiorLo(pl, sw), x0, x1);
  const xb = clampTo(interiorHi(inW, kw, dw, pl, sw), xa, x1);
  const ya = clampTo(interiorLo(pt, sh), y0, y1);
  const yb = clampTo(interiorHi(inH, kh, dh, pt, sh), ya, y1);
  const out = <usize>(<u32>word(call, C_OUT));
  const rowOutStride = <usize>bw * bc;
  // Interior pixels, four channels at a time over every pixel, so each
  // channel's requantization values are read once per block.
  if (xa < xb) {
    quadOp(rec);
    for (let c = cq; c < cqEnd; c += 4) {
      const ci = <usize>(c - chLo);
      const wc = weights + ci * <usize>taps;
      quadChannels(folded, mult, shift, ci);
      for (let n = n0; n < n1; n++) {
        const plane = tile + <usize>((n - tn) * eh) * <usize>rowStride;
        for (let y = ya; y < yb; y++) {
          const winRow = plane + <usize>(y * sh - pt - ty) * <usize>rowStride;
          let o = out + <usize>((n - n0) * (y1 - y0) + (y - y0)) * rowOutStride + <usize>(xa - x0) * bc + <usize>(c - c0);
          let p = winRow + <usize>((xa * sw - pl - tx) * inC);
          const pairs = (xb - xa) >> 1;
          if (blocked) convPairsBlocked(p, pixStride, wc, o, bc, pairs);
          else convPairs(p, pixStride, wc, <usize>taps, o, bc, pairs);
          if (xa + 2 * pairs < xb) {
            p += <usize>pairs * (pixStride << 1);
            o += <usize>pairs * (bc << 1);
            if (blocked) conv4Blocked(p, wc);
            else conv4(p, wc, <usize>taps);
            store<i32>(o, quadOut(acc0, acc1, acc2, acc3));
          }
        }
      }
    }
    // The channels outside the blocks, one at a time.
    for (let c = c0; c < c1; c++) {
      if (c == cq) c = cqEnd;
      if (c >= c1) break;
      const ci = <usize>(c - chLo);
      const wc = channelBase(weights, ci, <usize>taps, blocked, nc);
      const step = channelStep(ci, blocked, nc);
      const f = load<i32>(folded + (ci << 2));
      for (let n = n0; n < n1; n++) {
        const plane = tile + <usize>((n - tn) * eh) * <usize>rowStride;
        for (let y = ya; y < yb; y++) {
          const winRow = plane + <usize>(y * sh - pt - ty) * <usize>rowStride;
          const rowOut = out + <usize>((n - n0) * (y1 - y0) + (y - y0)) * rowOutStride + <usize>(c - c0);
          for (let x = xa; x < xb; x++) {
            const p = winRow + <usize>((x * sw - pl - tx) * inC);
            store<i8>(rowOut + <usize>(x - x0) * bc, finish(interiorDot(p, wc, step) + f, ci, mult, shift, outZp, lo, hi));
          }
        }
      }
    }
  }
  // Every other pixel: its window crosses the input's edge.
  for (let n = n0; n < n1; n++) {
    const plane = tile + <usize>((n - tn) * eh) * <usize>rowStride;
    for (let y = y0; y < y1; y++) {
      const iy0 = y * sh - pt;
      const kyA = firstTap(iy0, dh);
      const kyB = endTap(iy0, dh, kh, inH);
      const rowOut = out + <usize>((n - n0) * (y1 - y0) + (y - y0)) * rowOutStride;
      const interiorRow = y >= ya && y < yb;
      for (let x = x0; x < x1; x++) {
        if (interiorRow && x >= xa && x < xb) continue;
        borderPixel(rec, plane, iy0, kyA, kyB, x, rowOut + <usize>(x - x0) * bc, c0, c1);
      }
    }
  }
}

// Accumulators of borderSegment4: four channels' Σ w * (x - zp) over the
// segments of one border pixel.
let acc0 = 0;
let acc1 = 0;
let acc2 = 0;
let acc3 = 0;

/** Adds Σ w_j[i] * (x[i] - zp) over len bytes to the four accumulators
 * (channel j's weights at w + j * chStride, `step` bytes from one word to the next). */
function borderSegment4(xp: usize, w: usize, chStride: usize, step: usize, len: usize, zp: i32): void {
  let a0 = acc0, a1 = acc1, a2 = acc2, a3 = acc3;
  const w1 = w + chStride, w2 = w1 + chStride, w3 = w2 + chStride;
  let i: usize = 0;
  let k: usize = 0;
  for (; i + 4 <= len; i += 4) {
    const xv = load<i32>(xp + i);
    const wa = load<i32>(w + k), wb = load<i32>(w1 + k), wc = load<i32>(w2 + k), wd = load<i32>(w3 + k);
    k += step;
    let x = lane0(xv) - zp;
    a0 += x * lane0(wa); a1 += x * lane0(wb); a2 += x * lane0(wc); a3 += x * lane0(wd);
    x = lane1(xv) - zp;
    a0 += x * lane1(wa); a1 += x * lane1(wb); a2 += x * lane1(wc); a3 += x * lane1(wd);
    x = lane2(xv) - zp;
    a0 += x * lane2(wa); a1 += x * lane2(wb); a2 += x * lane2(wc); a3 += x * lane2(wd);
    x = lane3(xv) - zp;
    a0 += x * lane3(wa); a1 += x * lane3(wb); a2 += x * lane3(wc); a3 += x * lane3(wd);
  }
  // Bytes past the last word: plain rows only (k == i there).
  for (; i < len; i++) {
    const x = <i32>load<i8>(xp + i) - zp;
    a0 += x * <i32>load<i8>(w + k); a1 += x * <i32>load<i8>(w1 + k);
    a2 += x * <i32>load<i8>(w2 + k); a3 += x * <i32>load<i8>(w3 + k);
    k++;
  }
  acc0 = a0;
  acc1 = a1;
  acc2 = a2;
  acc3 = a3;
}

/** A pixel whose window crosses the input's edge: taps outside are skipped,
 * so the raw bias is used and the zero point is subtracted per tap. Four
 * channels at a time over the valid taps, one contiguous run per filter row
 * when dilation is 1. */
function borderPixel(rec: usize, plane: usize, iy0: i32, kyA: i32, kyB: i32, x: i32, out: usize, c0: i32, c1: i32): void {
  const inW = word(rec, W_IN_SHAPE + 2), inC = word(rec, W_IN_SHAPE + 3);
  const kh = word(rec, W_KH), kw = word(rec, W_KW);
  const sw = word(rec, W_STRIDE_W), dh = word(rec, W_DIL_H), dw = word(rec, W_DIL_W);
  const pl = word(rec, W_PAD_LEFT), zp = word(rec, W_IN_ZP);
  const chLo = word(rec, W_CH_LO);
  const ty = curTy, tx = curTx, rowStride = curRowStride;
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const bias = rec + <usize>word(rec, W_BIAS);
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  const outZp = word(rec, W_OUT_ZP), lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const taps = <usize>(kh * kw * inC);
  const ix0 = x * sw - pl;
  const kxA = firstTap(ix0, dw);
  const kxB = endTap(ix0, dw, kw, inW);
  // Runs per filter row: [kxA, kxB) in one run when columns are adjacent, else one per tap.
  const runs = dw == 1 ? (kxB > kxA ? 1 : 0) : kxB - kxA;
  const runLen = <usize>(dw == 1 ? (kxB - kxA) * inC : inC);
  const nc = word(rec, W_CH_HI) - chLo;
  const blocked = isBlocked(inC);
  const cq = firstQuad(c0, c1, chLo, blocked);
  const cqEnd = cq + ((c1 - cq) & ~3);
  // A block's channels lie 4 bytes apart and a run of taps starting at tap t at 4t (interleaved), or taps and t apart.
  const chStride: usize = blocked ? 4 : taps;
  const step: usize = blocked ? 16 : 4;
  for (let c = cq; c < cqEnd; c += 4) {
    const ci = <usize>(c - chLo);
    const wc = weights + ci * taps;
    acc0 = load<i32>(bias + (ci << 2));
    acc1 = load<i32>(bias + (ci << 2) + 4);
    acc2 = load<i32>(bias + (ci << 2) + 8);
    acc3 = load<i32>(bias + (ci << 2) + 12);
    for (let ky = kyA; ky < kyB; ky++) {
      const row = plane + <usize>(iy0 + ky * dh - ty) * <usize>rowStride;
      for (let r = 0; r < runs; r++) {
        const kx = kxA + r;
        borderSegment4(row + <usize>(ix0 + kx * dw - tx) * <usize>inC, wc + <usize>((ky * kw + kx) * inC) * (step >> 2), chStride, step, runLen, zp);
      }
    }
    const o = out + <usize>(c - c0);
    store<i8>(o, finish(acc0, ci, mult, shift, outZp, lo, hi));
    store<i8>(o + 1, finish(acc1, ci + 1, mult, shift, outZp, lo, hi));
    store<i8>(o + 2, finish(acc2, ci + 2, mult, shift, outZp, lo, hi));
    store<i8>(o + 3, finish(acc3, ci + 3, mult, shift, outZp, lo, hi));
  }
  // The channels outside the blocks, one at a time.
  for (let c = c0; c < c1; c++) {
    if (c == cq) c = cqEnd;
    if (c >= c1) break;
    const ci = <usize>(c - chLo);
    const wc = channelBase(weights, ci, taps, blocked, nc);
    const cs = channelStep(ci, blocked, nc);
    let acc = load<i32>(bias + (ci << 2));
    for (let ky = kyA; ky < kyB; ky++) {
      const row = plane + <usize>(iy0 + ky * dh - ty) * <usize>rowStride;
      for (let kx = kxA; kx < kxB; kx++) {
        const px = row + <usize>(ix0 + kx * dw - tx) * <usize>inC;
        // Tap (ky, kx, 0) is a whole word when interleaved (inC % 4 == 0), so its address is 4x its index there.
        const wp = wc + <usize>((ky * kw + kx) * inC) * (cs >> 2);
        for (let i: usize = 0; i < <usize>inC; i++) acc += weightAt(wp, cs, i) * (<i32>load<i8>(px + i) - zp);
      }
    }
    store<i8>(out + <usize>(c - c0), finish(acc, ci, mult, shift, outZp, lo, hi));
  }
}
