// The model half of every op kind, one file each beside this table: the
// shapes, dtypes and options a valid op has (validate.ts asks it for every op
// of a graph) and its geometry (geometryOf, what the planner and op-params.ts
// read). The device half of the same op is host/abi/ops/<op>.ts.
import type { GeometryBase, OpGeometry } from '../geometry.ts';
import type { Graph, Op, OpKind } from '../ir.ts';
import { addShape } from './add.ts';
import type { OpShape } from './check.ts';
import { conv2dShape } from './conv-2d.ts';
import { depthwiseConv2dShape } from './depthwise-conv-2d.ts';
import { dequantizeShape } from './dequantize.ts';
import { fullyConnectedShape } from './fully-connected.ts';
import { pool2dShape } from './pool-2d.ts';
import { quantizeShape } from './quantize.ts';
import { reshapeShape } from './reshape.ts';
import { softmaxShape } from './softmax.ts';

const SHAPES: Record<OpKind, OpShape<never, OpGeometry>> = {
  CONV_2D: conv2dShape,
  DEPTHWISE_CONV_2D: depthwiseConv2dShape,
  FULLY_CONNECTED: fullyConnectedShape,
  MAX_POOL_2D: pool2dShape,
  AVERAGE_POOL_2D: pool2dShape,
  ADD: addShape,
  RESHAPE: reshapeShape,
  SOFTMAX: softmaxShape,
  QUANTIZE: quantizeShape,
  DEQUANTIZE: dequantizeShape,
};

/** The shape rules of an op's kind, or undefined for a kind the IR does not have. */
export function shapeOf<O extends Op>(op: O): OpShape<O, OpGeometry> | undefined {
  return Object.hasOwn(SHAPES, op.kind) ? (SHAPES[op.kind] as OpShape<O, OpGeometry>) : undefined;
}

/** The geometry of op `opIndex` of a validated graph. */
export function opGeometry(graph: Graph, opIndex: number): OpGeometry {
  const op = graph.ops[opIndex];
  const T = graph.tensors;
  const base = (inputs: number[]): GeometryBase => ({ opIndex, inputs, output: op.outputs[0], outputShape: [...T[op.outputs[0]].shape] });
  return (SHAPES[op.kind] as OpShape<Op, OpGeometry>).geometry(op, T, base);
}

/** Geometry of every op of a graph, computed once per graph object. */
const cache = new WeakMap<Graph, OpGeometry[]>();
export function geometryOf(graph: Graph, opIndex: number): OpGeometry {
  let all = cache.get(graph);
  if (!all || all.length !== graph.ops.length) {
    all = graph.ops.map((_, i) => opGeometry(graph, i));
    cache.set(graph, all);
  }
  return all[opIndex];
}
