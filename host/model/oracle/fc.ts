// FULLY_CONNECTED (ARITHMETIC.md section 5). The input is read as
// [batches, depth] and the output as [batches, units]; FC boxes and tiles
// are given in that 2-D view. A fragment may cover a range of units and,
// optionally, a range of the input depth: it then returns int32 partial sums
// that `fcReduce` adds up and `fcFinish` turns into int8.

import { clamp, multiplyByQuantizedMultiplier } from '../arith.ts';
import type { FullyConnectedParams } from '../op-params.ts';
import { TileView, checkBox, type Box, type Tile } from './tile.ts';

const label = (p: FullyConnectedParams) => `FULLY_CONNECTED (op ${p.opIndex})`;

/** Input tile in the [batches, depth] view; a tile in the tensor's own rank must be the whole tensor. */
function flatView(p: FullyConnectedParams, input: Tile): TileView {
  let tile = input;
  if (input.shape.length !== 2) {
    const whole = input.origin.every((o) => o === 0) && input.shape.join() === p.inputShape.join();
    if (!whole) throw new RangeError(`${label(p)}: an input tile of rank ${input.shape.length} must be the whole input; give FC tiles as [batches, depth]`);
    tile = { data: input.data, origin: [0, 0], shape: [p.batches, p.depth] };
  }
  return new TileView(`${label(p)} input`, tile, [p.batches, p.depth]);
}

/**
 * Int32 sums Σ_{d in [d0, d1)} (w[u,d] - filterZp) * (x[b,d] - inputZp) for the
 * box [b0,b1) x [u0,u1), row-major in the box. No bias.
 */
export function fcPartialSums(p: FullyConnectedParams, input: Tile, box: Box, depthRange: [number, number] = [0, p.depth]): Int32Array {
  const [bn, bu] = checkBox(label(p), box, [p.batches, p.units]);
  const [d0, d1] = depthRange;
  if (!(Number.isInteger(d0) && Number.isInteger(d1) && 0 <= d0 && d0 <= d1 && d1 <= p.depth))
    throw new RangeError(`${label(p)}: depth range [${d0}, ${d1}) is not inside [0, ${p.depth})`);
  const x = flatView(p, input);
  const [b0, u0] = box.start;
  if (bn > 0) x.requireRange(1, d0, d1);
  const { filter, inputZeroPoint: inZp, filterZeroPoint: wZp } = p;
  const sums = new Int32Array(bn * bu);
  let o = 0;
  for (let b = b0; b < b0 + bn; b++) {
    const xBase = d1 > d0 ? x.index([b, d0]) - d0 : 0;
    for (let u = u0; u < u0 + bu; u++) {
      const wBase = u * p.depth;
      let acc = 0;
      for (let d = d0; d < d1; d++) acc += (filter[wBase + d] - wZp) * (x.data[xBase + d] - inZp);
      sums[o++] = acc;
    }
  }
  return sums;
}

/** Adds partial sums of the same box (int32, wrapping like the kernels). */
export function fcReduce(parts: readonly Int32Array[]): Int32Array {
  if (parts.length === 0) throw new RangeError('fcReduce: no partial sums given');
  const out = new Int32Array(parts[0].length);
  for (const part of parts) {
    if (part.length !== out.length) throw new RangeError(`fcReduce: partial sums of ${part.length} and ${out.length} values`);
    for (let i = 0; i < out.length; i++) out[i] += part[i];
  }
  return out;
}

/** Bias, requantization, output zero point and clamp of full-depth sums for `box`. */
export function fcFinish(p: FullyConnectedParams, sums: Int32Array, box: Box): Int8Array {
  const [bn, bu] = checkBox(label(p), box, [p.batches, p.units]);
  if (sums.length !== bn * bu) throw new RangeError(`${label(p)}: ${sums.length} sums for a box of ${bn * bu} values`);
  const { bias, multipliers, shifts, outputZeroPoint: outZp, actMin, actMax } = p;
  const u0 = box.start[1];
  const out = new Int8Array(sums.length);
  for (let i = 0; i < sums.length; i++) {
    const u = u0 + (i % bu);
    const acc = bias ? (sums[i] + bias[u]) | 0 : sums[i];
    out[i] = clamp(multiplyByQuantizedMultiplier(acc, multipliers[u], shifts[u]) + outZp, actMin, actMax);
  }
  return out;
}

export function fcBox(p: FullyConnectedParams, input: Tile, box: Box): Int8Array {
  return fcFinish(p, fcPartialSums(p, input, box), box);
}
