// CONV_2D fragment: output box [n0,n1) x [y0,y1) x [x0,x1) x [c0,c1) of a
// per-channel int8 convolution (ARITHMETIC.md §4). Interior pixels, whose
// windows lie wholly inside the input, use the bias with the input zero point
// folded in; border pixels skip the taps outside the input as TFLM does.
import {
  word, W_IN_SHAPE, W_OUT_SHAPE, W_KH, W_KW, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT,
  W_IN_ZP, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX, W_CH_LO, W_CH_HI, W_WEIGHTS, W_BIAS, W_FOLDED, W_MULT, W_SHIFT,
  C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, OK, CHANNELS_NOT_LOADED,
} from './layout';
import { checkBox, checkOutput, boxElems, tileRegionBytes } from './bounds';
import { checkWindowRecord, checkWindowTile } from './window';
import { checkChannelConstants, channelEntry } from './channels';
import { requantize } from './requant';

export function checkConv(rec: usize): i32 {
  const e = checkWindowRecord(rec);
  if (e != OK) return e;
  const taps = <u64>word(rec, W_KH) * <u64>word(rec, W_KW) * <u64>word(rec, W_IN_SHAPE + 3);
  const nc = <u64>(word(rec, W_CH_HI) - word(rec, W_CH_LO));
  return checkChannelConstants(rec, word(rec, W_OUT_SHAPE + 3), nc * taps);
}

/** folded[c] = bias[c] - inZp * sum(w[c]). */
export function foldConv(rec: usize): void {
  const taps = word(rec, W_KH) * word(rec, W_KW) * word(rec, W_IN_SHAPE + 3);
  const zp = word(rec, W_IN_ZP);
  const lo = word(rec, W_CH_LO);
  const hi = word(rec, W_CH_HI);
  for (let c = lo; c < hi; c++) {
    const w = rec + <usize>word(rec, W_WEIGHTS) + <usize>(c - lo) * <usize>taps;
    let s = 0;
    for (let i = 0; i < taps; i++) s += <i32>load<i8>(w + <usize>i);
    store<i32>(channelEntry(rec, W_FOLDED, c), load<i32>(channelEntry(rec, W_BIAS, c)) - zp * s);
  }
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
  const zp = word(rec, W_IN_ZP), outZp = word(rec, W_OUT_ZP);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const chLo = word(rec, W_CH_LO);
  const tn = word(call, C_IN0_ORIGIN), ty = word(call, C_IN0_ORIGIN + 1), tx = word(call, C_IN0_ORIGIN + 2);
  const eh = word(call, C_IN0_EXTENT + 1), ew = word(call, C_IN0_EXTENT + 2);
  const tile = <usize>(<u32>word(call, C_IN0));
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const bias = rec + <usize>word(rec, W_BIAS);
  const folded = rec + <usize>word(rec, W_FOLDED);
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  const taps = kh * kw * inC;
  const rowStride = ew * inC;
  let out = <usize>(<u32>word(call, C_OUT));
  for (let n = n0; n < n1; n++) {
    const plane = tile + <usize>((n - tn) * eh) * <usize>rowStride;
    for (let y = y0; y < y1; y++) {
      const iy0 = y * sh - pt;
      const kyA = firstTap(iy0, dh);
      const kyB = endTap(iy0, dh, kh, inH);
      for (let x = x0; x < x1; x++) {
        const ix0 = x * sw - pl;
        const kxA = firstTap(ix0, dw);
        const kxB = endTap(ix0, dw, kw, inW);
        const interior = kyA == 0 && kyB == kh && kxA == 0 && kxB == kw;
        for (let c = c0; c < c1; c++) {
          const ci = <usize>(c - chLo);
          const wc = weights + ci * <usize>taps;
          let acc: i32;
          if (interior) {
            acc = load<i32>(folded + (ci << 2));
            for (let ky = 0; ky < kh; ky++) {
              const row = plane + <usize>(iy0 + ky * dh - ty) * <usize>rowStride;
              for (let kx = 0; kx < kw; kx++) {
                const px = row + <usize>(ix0 + kx * dw - tx) * <usize>inC;
                const wp = wc + <usize>((ky * kw + kx) * inC);
                for (let i = 0; i < inC; i++) acc += <i32>load<i8>(wp + <usize>i) * <i32>load<i8>(px + <usize>i);
              }
            }
          } else {
            acc = load<i32>(bias + (ci << 2));
            for (let ky = kyA; ky < kyB; ky++) {
              const row = plane + <usize>(iy0 + ky * dh - ty) * <usize>rowStride;
              for (let kx = kxA; kx < kxB; kx++) {
                const px = row + <usize>(ix0 + kx * dw - tx) * <usize>inC;
                const wp = wc + <usize>((ky * kw + kx) * inC);
                for (let i = 0; i < inC; i++) acc += <i32>load<i8>(wp + <usize>i) * (<i32>load<i8>(px + <usize>i) - zp);
              }
            }
          }
          store<i8>(out, <i8>requantize(acc, load<i32>(mult + (ci << 2)), load<i32>(shift + (ci << 2)), outZp, lo, hi));
          out++;
        }
      }
    }
  }
}
