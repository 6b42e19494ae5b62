// DEPTHWISE_CONV_2D fragment: output channel oc reads input channel
// oc / depthMultiplier (ARITHMETIC.md §4). Same interior/border split as conv.
import {
  word, W_IN_SHAPE, W_OUT_SHAPE, W_KH, W_KW, W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT,
  W_DEPTH_MULT, W_IN_ZP, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX, W_CH_LO, W_CH_HI, W_WEIGHTS, W_BIAS, W_FOLDED, W_MULT,
  W_SHIFT, C_OUT, C_BOX_START, C_BOX_END, C_IN0, C_IN0_ORIGIN, C_IN0_EXTENT, OK, BAD_RECORD, CHANNELS_NOT_LOADED,
} from './layout';
import { checkBox, checkOutput, boxElems, tileRegionBytes } from './bounds';
import { checkWindowRecord, checkWindowTile, clampTo, interiorLo, interiorHi } from './window';
import { dw3x3Setup, dw3x3Block } from './depthwise3x3';
import { checkChannelConstants, channelEntry } from './channels';
import { firstTap, endTap } from './conv';
import { lane0, lane1, lane2, lane3 } from './lanes';
import { requantize } from './requant';

export function checkDepthwise(rec: usize): i32 {
  const e = checkWindowRecord(rec);
  if (e != OK) return e;
  const dm = word(rec, W_DEPTH_MULT);
  if (dm < 1 || <i64>word(rec, W_IN_SHAPE + 3) * dm != <i64>word(rec, W_OUT_SHAPE + 3)) return BAD_RECORD;
  const taps = <u64>word(rec, W_KH) * <u64>word(rec, W_KW);
  const nc = <u64>(word(rec, W_CH_HI) - word(rec, W_CH_LO));
  return checkChannelConstants(rec, word(rec, W_OUT_SHAPE + 3), nc * taps);
}

/** folded[c] = bias[c] - inZp * sum over taps of w[.][.][c]. */
export function foldDepthwise(rec: usize): void {
  const taps = word(rec, W_KH) * word(rec, W_KW);
  const zp = word(rec, W_IN_ZP);
  const lo = word(rec, W_CH_LO);
  const nc = word(rec, W_CH_HI) - lo;
  const w = rec + <usize>word(rec, W_WEIGHTS);
  for (let c = 0; c < nc; c++) {
    let s = 0;
    for (let t = 0; t < taps; t++) s += <i32>load<i8>(w + <usize>(t * nc + c));
    store<i32>(channelEntry(rec, W_FOLDED, c + lo), load<i32>(channelEntry(rec, W_BIAS, c + lo)) - zp * s);
  }
}

export function runDepthwise(rec: usize, call: usize): i32 {
  let e = checkBox(rec, call);
  if (e != OK) return e;
  const c0 = word(call, C_BOX_START + 3);
  const c1 = word(call, C_BOX_END + 3);
  if (c0 < word(rec, W_CH_LO) || c1 > word(rec, W_CH_HI)) return CHANNELS_NOT_LOADED;
  const dm = word(rec, W_DEPTH_MULT);
  e = checkWindowTile(rec, call, c0 / dm, (c1 - 1) / dm + 1);
  if (e != OK) return e;
  const in0 = <u32>word(call, C_IN0);
  e = checkOutput(rec, call, boxElems(call), in0, tileRegionBytes(call, C_IN0_EXTENT, 1), 0, 0);
  if (e != OK) return e;
  depthwiseBox(rec, call);
  return OK;
}

function depthwiseBox(rec: usize, call: usize): void {
  const n0 = word(call, C_BOX_START), n1 = word(call, C_BOX_END);
  const y0 = word(call, C_BOX_START + 1), y1 = word(call, C_BOX_END + 1);
  const x0 = word(call, C_BOX_START + 2), x1 = word(call, C_BOX_END + 2);
  const c0 = word(call, C_BOX_START + 3), c1 = word(call, C_BOX_END + 3);
  const inH = word(rec, W_IN_SHAPE + 1), inW = word(rec, W_IN_SHAPE + 2);
  const kh = word(rec, W_KH), kw = word(rec, W_KW);
  const sh = word(rec, W_STRIDE_H), sw = word(rec, W_STRIDE_W);
  const dh = word(rec, W_DIL_H), dw = word(rec, W_DIL_W);
  const pt = word(rec, W_PAD_TOP), pl = word(rec, W_PAD_LEFT);
  const dm = word(rec, W_DEPTH_MULT);
  const zp = word(rec, W_IN_ZP), outZp = word(rec, W_OUT_ZP);
  const lo = word(rec, W_ACT_MIN), hi = word(rec, W_ACT_MAX);
  const chLo = word(rec, W_CH_LO);
  const nc = word(rec, W_CH_HI) - chLo;
  const tn = word(call, C_IN0_ORIGIN), ty = word(call, C_IN0_ORIGIN + 1), tx = word(call, C_IN0_ORIGIN + 2);
  const tc = word(call, C_IN0_ORIGIN + 3);
  const eh = word(call, C_IN0_EXTENT + 1), ew = word(call, C_IN0_EXTENT + 2), ec = word(call, C_IN0_EXTENT + 3);
  const tile = <usize>(<u32>word(call, C_IN0));
  const weights = rec + <usize>word(rec, W_WEIGHTS);
  const bias = rec + <usize>word(rec, W_BIAS);
  const folded = rec + <usize>word(rec, W_FOLDED);
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  const rowStride = ew * ec;
  const outBase = <usize>(<u32>word(call, C_OUT));
  // 3x3 windows go four channels at a time through depthwise3x3.ts (depth
  // multiplier 1, or a multiple of 4 with blocks that share their input
  // channel); the last channels and other windows take the loops below.
  const xa = clampTo(interiorLo(pl, sw), x0, x1);
  const xb = clampTo(interiorHi(inW, kw, dw, pl, sw), xa, x1);
  const ya = clampTo(interiorLo(pt, sh), y0, y1);
  const yb = clampTo(interiorHi(inH, kh, dh, pt, sh), ya, y1);
  let blocked = 0;
  if (kh == 3 && kw == 3 && (dm == 1 || ((dm & 3) == 0 && (c0 & 3) == 0))) {
    blocked = (c1 - c0) & ~3;
    dw3x3Setup(rec, call, ya, yb, xa, xb);
    for (let c = c0; c < c0 + blocked; c += 4) dw3x3Block(c);
  }
  for (let n = n0; n < n1; n++) {
    const plane = tile + <usize>((n - tn) * eh) * <usize>rowStride;
    for (let y = y0; y < y1; y++) {
      const iy0 = y * sh - pt;
      const kyA = firstTap(iy0, dh);
      const kyB = endTap(iy0, dh, kh, inH);
      for (let x = x0; x < x1; x++) {
        let out = outBase + <usize>(((n - n0) * (y1 - y0) + (y - y0)) * (x1 - x0) + (x - x0)) * <usize>(c1 - c0) + <usize>blocked;
        const ix0 = x * sw - pl;
        const kxA = firstTap(ix0, dw);
        const kxB = endTap(ix0, dw, kw, inW);
        const interior = kyA == 0 && kyB == kh && kxA == 0 && kxB == kw;
        const biasArr = interior ? folded : bias;
        const zpTap = interior ? 0 : zp;
        let c = c0 + blocked;
        if (dm == 1) {
          // Four adjacent channels per word load (input channel = output channel), over the valid taps.
          for (; c + 4 <= c1; c += 4) {
            const ci = <usize>(c - chLo);
            let a0 = load<i32>(biasArr + (ci << 2)), a1 = load<i32>(biasArr + (ci << 2) + 4);
            let a2 = load<i32>(biasArr + (ci << 2) + 8), a3 = load<i32>(biasArr + (ci << 2) + 12);
            for (let ky = kyA; ky < kyB; ky++) {
              const row = plane + <usize>(iy0 + ky * dh - ty) * <usize>rowStride + <usize>(c - tc);
              const wrow = weights + <usize>(ky * kw) * <usize>nc + ci;
              for (let kx = kxA; kx < kxB; kx++) {
                const xv = load<i32>(row + <usize>(ix0 + kx * dw - tx) * <usize>ec);
                const wv = load<i32>(wrow + <usize>kx * <usize>nc);
                a0 += (lane0(xv) - zpTap) * lane0(wv);
                a1 += (lane1(xv) - zpTap) * lane1(wv);
                a2 += (lane2(xv) - zpTap) * lane2(wv);
                a3 += (lane3(xv) - zpTap) * lane3(wv);
              }
            }
            store<i8>(out, <i8>requantize(a0, load<i32>(mult + (ci << 2)), load<i32>(shift + (ci << 2)), outZp, lo, hi));
            store<i8>(out + 1, <i8>requantize(a1, load<i32>(mult + (ci << 2) + 4), load<i32>(shift + (ci << 2) + 4), outZp, lo, hi));
            store<i8>(out + 2, <i8>requantize(a2, load<i32>(mult + (ci << 2) + 8), load<i32>(shift + (ci << 2) + 8), outZp, lo, hi));
            store<i8>(out + 3, <i8>requantize(a3, load<i32>(mult + (ci << 2) + 12), load<i32>(shift + (ci << 2) + 12), outZp, lo, hi));
            out += 4;
          }
        }
        for (; c < c1; c++) {
          const ci = <usize>(c - chLo);
          const ic = <usize>(c / dm - tc);
          let acc = load<i32>(biasArr + (ci << 2));
          for (let ky = kyA; ky < kyB; ky++) {
            const row = plane + <usize>(iy0 + ky * dh - ty) * <usize>rowStride + ic;
            const wrow = weights + <usize>(ky * kw) * <usize>nc + ci;
            for (let kx = kxA; kx < kxB; kx++) {
              const xv = <i32>load<i8>(row + <usize>(ix0 + kx * dw - tx) * <usize>ec) - zpTap;
              acc += <i32>load<i8>(wrow + <usize>kx * <usize>nc) * xv;
            }
          }
          store<i8>(out, <i8>requantize(acc, load<i32>(mult + (ci << 2)), load<i32>(shift + (ci << 2)), outZp, lo, hi));
          out++;
        }
      }
    }
  }
}
