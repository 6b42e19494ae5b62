// MAX_POOL_2D and AVERAGE_POOL_2D (ARITHMETIC.md section 7): the window is
// clipped to the input; no requantization (input and output share scale and
// zero point). Average rounds half away from zero on the raw int8 sum.

import { clamp } from '../arith.ts';
import type { PoolParams } from '../op-params.ts';
import { TileView, checkBox, type Box, type Tile } from './tile.ts';

export function poolBox(p: PoolParams, input: Tile, box: Box): Int8Array {
  const label = `${p.kind} (op ${p.opIndex})`;
  const [bn, bh, bw, bc] = checkBox(label, box, p.outputShape);
  const x = new TileView(`${label} input`, input, p.inputShape);
  const [, H, W] = p.inputShape;
  const [b0, y0, x0, c0] = box.start;
  if (bc > 0) x.requireRange(3, c0, c0 + bc);
  const average = p.kind === 'AVERAGE_POOL_2D';
  const out = new Int8Array(bn * bh * bw * bc);
  let o = 0;
  for (let b = b0; b < b0 + bn; b++) {
    for (let oy = y0; oy < y0 + bh; oy++) {
      const iy0 = oy * p.strideH - p.padTop;
      const fy0 = Math.max(0, -iy0);
      const fy1 = Math.min(p.filterH, H - iy0);
      for (let ox = x0; ox < x0 + bw; ox++) {
        const ix0 = ox * p.strideW - p.padLeft;
        const fx0 = Math.max(0, -ix0);
        const fx1 = Math.min(p.filterW, W - ix0);
        const count = Math.max(0, fy1 - fy0) * Math.max(0, fx1 - fx0);
        if (count === 0) throw new RangeError(`${label}: output [${b},${oy},${ox}] has an empty window`);
        for (let c = c0; c < c0 + bc; c++) {
          let acc = average ? 0 : -128;
          for (let fy = fy0; fy < fy1; fy++) {
            for (let fx = fx0; fx < fx1; fx++) {
              const v = x.data[x.index([b, iy0 + fy, ix0 + fx, c])];
              acc = average ? acc + v : Math.max(acc, v);
            }
          }
          if (average) {
            const half = Math.floor(count / 2);
            acc = Math.trunc(acc > 0 ? (acc + half) / count : (acc - half) / count);
          }
          out[o++] = clamp(acc, p.actMin, p.actMax);
        }
      }
    }
  }
  return out;
}
