// The ops the TFLM vectors do not cover (QUANTIZE, requantize, RESHAPE,
// DEQUANTIZE), worked by hand from ARITHMETIC.md, in one small graph.
import { describe, expect, it } from 'vitest';
import { type Graph } from '../host/model/ir.ts';
import { validateGraph } from '../host/model/validate.ts';
import { oracle } from '../host/model/oracle.ts';

// float [2,3] -QUANTIZE(0.5, 3)-> int8 -RESHAPE [3,2]-> -QUANTIZE(1.0, -1)-> int8 -DEQUANTIZE-> float
const graph: Graph = validateGraph({
  name: 'edges',
  tensors: [
    { name: 'x', shape: [2, 3], dtype: 'float32' },
    { name: 'q', shape: [2, 3], dtype: 'int8', quant: { scale: [0.5], zeroPoint: [3] } },
    { name: 'r', shape: [3, 2], dtype: 'int8', quant: { scale: [0.5], zeroPoint: [3] } },
    { name: 'rq', shape: [3, 2], dtype: 'int8', quant: { scale: [1], zeroPoint: [-1] } },
    { name: 'y', shape: [3, 2], dtype: 'float32' },
  ],
  ops: [
    { kind: 'QUANTIZE', inputs: [0], outputs: [1] },
    { kind: 'RESHAPE', inputs: [1], outputs: [2], newShape: [3, 2] },
    { kind: 'QUANTIZE', inputs: [2], outputs: [3] },
    { kind: 'DEQUANTIZE', inputs: [3], outputs: [4] },
  ],
  inputs: [0],
  outputs: [4],
});

describe('QUANTIZE, RESHAPE, requantize, DEQUANTIZE', async () => {
  const x = Float32Array.from([0.25, -0.25, 0.75, 1.0, -63.6, 100]);
  const values = await oracle.runAll(graph, [x]);

  it('quantizes float x / 0.5 half away from zero, plus 3, clamped: 0.5->1, -0.5->-1, 200->127', () => {
    expect(Array.from(values[1]!)).toEqual([4, 2, 5, 5, -124, 127]);
  });

  it('reshapes without touching the values', () => {
    expect(values[2]).toBeInstanceOf(Int8Array);
    expect(Array.from(values[2]!)).toEqual([4, 2, 5, 5, -124, 127]);
  });

  it('requantizes by 0.5 with SRDHM ties toward +infinity: (x - 3) = 1 -> 1, -1 -> 0, -127 -> -63', () => {
    expect(Array.from(values[3]!)).toEqual([0, -1, 0, 0, -64, 61]);
  });

  it('dequantizes to float32 scale * (q - zero point)', () => {
    expect(values[4]).toEqual(Float32Array.from([1, 0, 1, 1, -63, 62]));
  });

  it('returns the graph input itself and every computed tensor', () => {
    expect(values[0]).toBe(x);
    expect(values.filter((v) => v !== undefined)).toHaveLength(5);
  });

  it('refuses an input of the wrong type, naming it', async () => {
    await expect(oracle.runAll(graph, [new Int8Array(6)])).rejects.toThrow(/input 0 \(x\) must be 6 float32 values, got 6 Int8Array/);
  });
});
