// The oracle: a reference executor in plain TypeScript for every IR op,
// written from ARITHMETIC.md independently of the AssemblyScript kernels.
// Every later part (kernels, planner, executor, devices) is checked against it.
//
// Two entry points share one code path: `runOpBox` computes one box of one
// op's output from input tiles (what a fragment does), and `oracle.runAll`
// runs a whole graph by calling it with the whole output box.

import { numElements, type DType, type Graph, type TensorData } from './ir.ts';
import { validateGraph } from './validate.ts';
import type { Engine } from './engine.ts';
import { prepareOp, type OpParams } from './op-params.ts';
import { addBox } from './oracle/add.ts';
import { convBox } from './oracle/conv.ts';
import { dequantizeBox, quantizeBox, reshapeBox } from './oracle/elementwise.ts';
import { fcBox } from './oracle/fc.ts';
import { poolBox } from './oracle/pool.ts';
import { softmaxBox } from './oracle/softmax.ts';
import { fullBox, wholeTile, type Box, type Tile } from './oracle/tile.ts';

export { fcFinish, fcPartialSums, fcReduce } from './oracle/fc.ts';
export type { Box, Tile } from './oracle/tile.ts';

/**
 * Computes the output box [box.start, box.end) of one op from tiles of its
 * data inputs (`params.inputs`, in order). Boxes have the output's rank,
 * except FULLY_CONNECTED, whose boxes and tiles are in the [batches, units]
 * / [batches, depth] view. The result is row-major in the box's shape.
 * A box outside the output, or a tile missing a value the box needs, throws.
 */
export function runOpBox(params: OpParams, inputs: Tile[], box: Box): TensorData {
  if (inputs.length !== params.inputs.length)
    throw new RangeError(`${params.kind} (op ${params.opIndex}): ${inputs.length} input tiles given, expected ${params.inputs.length}`);
  const [x, y] = inputs;
  switch (params.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
      return convBox(params, x, box);
    case 'FULLY_CONNECTED':
      return fcBox(params, x, box);
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
      return poolBox(params, x, box);
    case 'ADD':
      return addBox(params, x, y, box);
    case 'SOFTMAX':
      return softmaxBox(params, x, box);
    case 'RESHAPE':
      return reshapeBox(params, x, box);
    case 'QUANTIZE':
      return quantizeBox(params, x, box);
    case 'DEQUANTIZE':
      return dequantizeBox(params, x, box);
  }
}

/** The whole output of an op as a box (FC in its [batches, units] view). */
export function wholeOutputBox(params: OpParams): Box {
  return fullBox(params.kind === 'FULLY_CONNECTED' ? [params.batches, params.units] : params.outputShape);
}

const ARRAY_OF: Record<DType, new (n: number) => TensorData> = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
};

export const oracle: Engine = {
  name: 'oracle',
  async runAll(graph: Graph, inputs: TensorData[]): Promise<(TensorData | undefined)[]> {
    validateGraph(graph);
    const T = graph.tensors;
    if (inputs.length !== graph.inputs.length) throw new RangeError(`oracle: ${inputs.length} inputs given, graph has ${graph.inputs.length}`);
    const values: (TensorData | undefined)[] = new Array(T.length);
    graph.inputs.forEach((id, k) => {
      const t = T[id];
      const v = inputs[k];
      if (!(v instanceof ARRAY_OF[t.dtype]) || v.length !== numElements(t.shape))
        throw new RangeError(`oracle: input ${k} (${t.name}) must be ${numElements(t.shape)} ${t.dtype} values, got ${v?.length} ${v?.constructor.name}`);
      values[id] = v;
    });
    graph.ops.forEach((_, i) => {
      const p = prepareOp(graph, i);
      const tiles = p.inputs.map((id) => wholeTile((values[id] ?? T[id].data)!, T[id].shape));
      values[p.output] = runOpBox(p, tiles, wholeOutputBox(p));
    });
    return values;
  },
};
