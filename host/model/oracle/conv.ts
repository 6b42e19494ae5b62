// CONV_2D and DEPTHWISE_CONV_2D on an output box (ARITHMETIC.md section 4):
// int32 accumulation of w * (x - inputZp) over the taps inside the input
// (taps outside are skipped, never read as zero), plus bias, requantized per
// output channel, plus output zero point, clamped.

import { clamp, multiplyByQuantizedMultiplier } from '../arith.ts';
import type { ConvParams } from '../op-params.ts';
import { TileView, checkBox, type Box, type Tile } from './tile.ts';

export function convBox(p: ConvParams, input: Tile, box: Box): Int8Array {
  const label = `${p.kind} (op ${p.opIndex})`;
  const [bn, bh, bw, bc] = checkBox(label, box, p.outputShape);
  const x = new TileView(`${label} input`, input, p.inputShape);
  const [, H, W, C] = p.inputShape;
  const [, kh, kw] = p.filterShape;
  const outC = p.outputShape[3];
  const [b0, y0, x0, c0] = box.start;
  const c1 = c0 + bc;
  const depthwise = p.kind === 'DEPTHWISE_CONV_2D';
  const dm = p.depthMultiplier;
  // Input channels the box reads: all of them for conv, those of its output channels for depthwise.
  const icLo = depthwise ? Math.floor(c0 / dm) : 0;
  const icHi = depthwise ? Math.floor((c1 - 1) / dm) + 1 : C;
  if (bc > 0) x.requireRange(3, icLo, icHi);
  const { filter, bias, multipliers, shifts, inputZeroPoint: inZp, outputZeroPoint: outZp, actMin, actMax } = p;
  const xd = x.data;
  const out = new Int8Array(bn * bh * bw * bc);
  if (out.length === 0) return out;
  // The taps of one output pixel that fall inside the input: filter position
  // ky * kw + kx and the tile offset of input channel 0. Found once per pixel.
  const tapK = new Int32Array(kh * kw);
  const tapX = new Int32Array(kh * kw);
  let o = 0;
  for (let b = b0; b < b0 + bn; b++) {
    for (let oy = y0; oy < y0 + bh; oy++) {
      const iy0 = oy * p.strideH - p.padTop;
      for (let ox = x0; ox < x0 + bw; ox++) {
        const ix0 = ox * p.strideW - p.padLeft;
        let taps = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky * p.dilationH;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * p.dilationW;
            if (ix < 0 || ix >= W) continue;
            tapK[taps] = ky * kw + kx;
            tapX[taps++] = x.index([b, iy, ix, icLo]) - icLo;
          }
        }
        for (let oc = c0; oc < c1; oc++) {
          let acc = 0;
          if (depthwise) {
            const ic = Math.floor(oc / dm);
            for (let t = 0; t < taps; t++) acc += filter[tapK[t] * outC + oc] * (xd[tapX[t] + ic] - inZp);
          } else {
            for (let t = 0; t < taps; t++) {
              const wBase = (oc * kh * kw + tapK[t]) * C;
              const xBase = tapX[t];
              for (let ic = 0; ic < C; ic++) acc += filter[wBase + ic] * (xd[xBase + ic] - inZp);
            }
          }
          if (bias) acc = (acc + bias[oc]) | 0;
          const v = multiplyByQuantizedMultiplier(acc | 0, multipliers[oc], shifts[oc]) + outZp;
          out[o++] = clamp(v, actMin, actMax);
        }
      }
    }
  }
  return out;
}
