// Ops that map each output element from one input element: RESHAPE (by flat
// index), QUANTIZE (float32 -> int8, or int8 -> int8 requantize) and
// DEQUANTIZE (int8 -> float32).

import type { TensorData } from '../ir.ts';
import { clamp, f32, multiplyByQuantizedMultiplier, quantizeValue } from '../arith.ts';
import type { DequantizeParams, QuantizeFloatParams, RequantizeParams, ReshapeParams } from '../op-params.ts';
import { TileView, advance, checkBox, type Box, type Tile } from './tile.ts';

type Ctor = { new (n: number): TensorData };

/** Copies `box` of the output, reading each element at `source(coord)` of the input tile. */
function mapBox(
  label: string,
  outShape: number[],
  inShape: number[],
  input: Tile,
  box: Box,
  OutArray: Ctor,
  source: (coord: number[]) => number[],
  value: (v: number) => number,
): TensorData {
  const shape = checkBox(label, box, outShape);
  const x = new TileView(`${label} input`, input, inShape);
  const size = shape.reduce((s, d) => s * d, 1);
  const out = new OutArray(size);
  const coord = [...box.start];
  for (let i = 0; i < size; i++) {
    out[i] = value(x.data[x.index(source(coord))]);
    advance(coord, box);
  }
  return out;
}

const same = (c: number[]) => c;
const identity = (v: number) => v;

export function reshapeBox(p: ReshapeParams, input: Tile, box: Box): TensorData {
  const outStrides = p.outputShape.map((_, i) => p.outputShape.slice(i + 1).reduce((a, b) => a * b, 1));
  const inStrides = p.inputShape.map((_, i) => p.inputShape.slice(i + 1).reduce((a, b) => a * b, 1));
  const toInput = (c: number[]) => {
    const flat = c.reduce((s, v, i) => s + v * outStrides[i], 0);
    return inStrides.map((s, i) => Math.floor(flat / s) % p.inputShape[i]);
  };
  return mapBox(`RESHAPE (op ${p.opIndex})`, p.outputShape, p.inputShape, input, box, input.data.constructor as Ctor, toInput, identity);
}

export function quantizeBox(p: QuantizeFloatParams | RequantizeParams, input: Tile, box: Box): TensorData {
  const label = `QUANTIZE (op ${p.opIndex})`;
  const value =
    p.from === 'float32'
      ? (v: number) => clamp(quantizeValue(v, p.scale, p.zeroPoint), -128, 127)
      : (v: number) => clamp(multiplyByQuantizedMultiplier(v - p.inputZeroPoint, p.multiplier, p.shift) + p.outputZeroPoint, -128, 127);
  return mapBox(label, p.outputShape, p.outputShape, input, box, Int8Array, same, value);
}

export function dequantizeBox(p: DequantizeParams, input: Tile, box: Box): TensorData {
  const value = (v: number) => f32(p.scale * (v - p.zeroPoint));
  return mapBox(`DEQUANTIZE (op ${p.opIndex})`, p.outputShape, p.outputShape, input, box, Float32Array, same, value);
}
