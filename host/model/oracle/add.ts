// ADD with numpy broadcasting up to 4-D (ARITHMETIC.md section 8): both
// inputs shifted left by 20, scaled below one, added, scaled to the output.

import { clamp, multiplyByQuantizedMultiplierSmallerThanOneExp as scaleDown } from '../arith.ts';
import type { AddParams } from '../op-params.ts';
import { TileView, advance, checkBox, type Box, type Tile } from './tile.ts';

/** The input coordinate an output coordinate reads under broadcasting (size-1 axes read index 0). */
function broadcastCoords(out: readonly number[], inShape: readonly number[]): number[] {
  const lead = out.length - inShape.length;
  return inShape.map((d, j) => (d === 1 ? 0 : out[lead + j]));
}

export function addBox(p: AddParams, input1: Tile, input2: Tile, box: Box): Int8Array {
  const label = `ADD (op ${p.opIndex})`;
  const shape = checkBox(label, box, p.outputShape);
  const a = new TileView(`${label} input 1`, input1, p.input1Shape);
  const b = new TileView(`${label} input 2`, input2, p.input2Shape);
  const size = shape.reduce((s, d) => s * d, 1);
  const out = new Int8Array(size);
  const coord = [...box.start];
  for (let i = 0; i < size; i++) {
    const qa = a.data[a.index(broadcastCoords(coord, p.input1Shape))];
    const qb = b.data[b.index(broadcastCoords(coord, p.input2Shape))];
    const sa = scaleDown((qa - p.input1ZeroPoint) << p.leftShift, p.input1Multiplier, p.input1Shift);
    const sb = scaleDown((qb - p.input2ZeroPoint) << p.leftShift, p.input2Multiplier, p.input2Shift);
    const v = scaleDown((sa + sb) | 0, p.outputMultiplier, p.outputShift) + p.outputZeroPoint;
    out[i] = clamp(v, p.actMin, p.actMax);
    advance(coord, box);
  }
  return out;
}
