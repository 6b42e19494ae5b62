// The one-op layers both kernel benchmarks measure (Node vs C, and Cortex-M4
// instructions): a conv or depthwise with per-channel weights, or an FC, with
// seeded weights and input, so every run measures the same bytes.
import { seededInts } from '../../host/random.ts';
import { convOutSize, type Graph, type Op, type Tensor } from '../../host/model/ir.ts';
import { validateGraph } from '../../host/model/validate.ts';

export interface BenchLayer {
  graph: Graph;
  input: Int8Array;
}

/** A conv (or depthwise) of a [h, w, cin] input to `cout` channels, k x k, SAME padding. */
export function convLayer(kind: 'CONV_2D' | 'DEPTHWISE_CONV_2D', [h, w, cin]: number[], cout: number, k: number, stride: number, seed: number): BenchLayer {
  const r = seededInts(seed);
  const [oh, ow] = [convOutSize(h, k, stride, 1, 'SAME'), convOutSize(w, k, stride, 1, 'SAME')];
  const fshape = kind === 'CONV_2D' ? [cout, k, k, cin] : [1, k, k, cout];
  const tensors: Tensor[] = [
    { name: 'x', shape: [1, h, w, cin], dtype: 'int8', quant: { scale: [0.05], zeroPoint: [-3] } },
    {
      name: 'w',
      shape: fshape,
      dtype: 'int8',
      quant: { scale: Array.from({ length: cout }, () => r(2, 10) / 1000), zeroPoint: Array(cout).fill(0), axis: kind === 'CONV_2D' ? 0 : 3 },
      data: Int8Array.from({ length: fshape.reduce((a, b) => a * b, 1) }, () => r(-127, 127)),
    },
    { name: 'b', shape: [cout], dtype: 'int32', data: Int32Array.from({ length: cout }, () => r(-2000, 2000)) },
    { name: 'y', shape: [1, oh, ow, cout], dtype: 'int8', quant: { scale: [0.1], zeroPoint: [5] } },
  ];
  const common = { inputs: [0, 1, 2], outputs: [3], padding: 'SAME' as const, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation: 'NONE' as const };
  const op: Op = kind === 'CONV_2D' ? { kind, ...common } : { kind, ...common, depthMultiplier: cout / cin };
  const graph = validateGraph({ tensors, ops: [op], inputs: [0], outputs: [3] });
  return { graph, input: Int8Array.from({ length: h * w * cin }, () => r(-128, 127)) };
}

/** A fully connected layer of `depth` inputs to `units` outputs, per-tensor weights. */
export function fcLayer(depth: number, units: number, seed: number): BenchLayer {
  const r = seededInts(seed);
  const tensors: Tensor[] = [
    { name: 'x', shape: [1, depth], dtype: 'int8', quant: { scale: [0.05], zeroPoint: [-3] } },
    { name: 'w', shape: [units, depth], dtype: 'int8', quant: { scale: [0.004], zeroPoint: [0] }, data: Int8Array.from({ length: units * depth }, () => r(-127, 127)) },
    { name: 'b', shape: [units], dtype: 'int32', data: Int32Array.from({ length: units }, () => r(-2000, 2000)) },
    { name: 'y', shape: [1, units], dtype: 'int8', quant: { scale: [0.2], zeroPoint: [5] } },
  ];
  const op: Op = { kind: 'FULLY_CONNECTED', inputs: [0, 1, 2], outputs: [3], activation: 'NONE', keepNumDims: false };
  return { graph: validateGraph({ tensors, ops: [op], inputs: [0], outputs: [3] }), input: Int8Array.from({ length: depth }, () => r(-128, 127)) };
}
