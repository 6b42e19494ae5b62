// The shape arithmetic of every op, without its quantization: shapes,
// windows, strides, padding offsets. The planner reasons with it on graphs
// whose scales it never needs; op-params.ts builds each op's full parameters
// on top of it, so both read the same padding.
import { convOutSize, numElements, padOffset, type Graph } from './ir.ts';

interface GeometryBase {
  opIndex: number;
  /** Tensor ids of the data inputs, in the order runOpBox takes their tiles. */
  inputs: number[];
  /** Tensor id of the output. */
  output: number;
  outputShape: number[];
}

export interface ConvGeometry extends GeometryBase {
  kind: 'CONV_2D' | 'DEPTHWISE_CONV_2D';
  /** [N, H, W, C] */
  inputShape: number[];
  /** CONV_2D: [outC, kh, kw, inC]; DEPTHWISE_CONV_2D: [1, kh, kw, inC * depthMultiplier]. */
  filterShape: number[];
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  /** Top/left padding offset: input row of output row y is y * strideH - padTop (+ ky * dilationH). */
  padTop: number;
  padLeft: number;
  /** 1 for CONV_2D; output channel = inputChannel * depthMultiplier + m for depthwise. */
  depthMultiplier: number;
}

export interface FullyConnectedGeometry extends GeometryBase {
  kind: 'FULLY_CONNECTED';
  inputShape: number[];
  /** The input is read as [batches, depth], the output as [batches, units]. */
  batches: number;
  depth: number;
  units: number;
}

export interface PoolGeometry extends GeometryBase {
  kind: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D';
  inputShape: number[];
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

export interface AddGeometry extends GeometryBase {
  kind: 'ADD';
  input1Shape: number[];
  input2Shape: number[];
}

export interface ReshapeGeometry extends GeometryBase {
  kind: 'RESHAPE';
  inputShape: number[];
}

export interface SoftmaxGeometry extends GeometryBase {
  kind: 'SOFTMAX';
  /** Rows are the last axis; all others are flattened. */
  rows: number;
  depth: number;
}

export interface QuantizeGeometry extends GeometryBase {
  kind: 'QUANTIZE';
  /** float32 -> int8 is the model's float edge; int8 -> int8 is a requantization. */
  from: 'float32' | 'int8';
}

export interface DequantizeGeometry extends GeometryBase {
  kind: 'DEQUANTIZE';
}

export type OpGeometry =
  | ConvGeometry
  | FullyConnectedGeometry
  | PoolGeometry
  | AddGeometry
  | ReshapeGeometry
  | SoftmaxGeometry
  | QuantizeGeometry
  | DequantizeGeometry;

/** TFLM derives the padding offset from the formula's output size, even when the declared output is larger. */
function padding(size: number, k: number, stride: number, dilation: number, mode: 'SAME' | 'VALID'): number {
  return padOffset(size, convOutSize(size, k, stride, dilation, mode), k, stride, dilation);
}

/** The geometry of op `opIndex` of a validated graph. */
export function opGeometry(graph: Graph, opIndex: number): OpGeometry {
  const op = graph.ops[opIndex];
  const T = graph.tensors;
  const x = T[op.inputs[0]];
  const base = (inputs: number[]): GeometryBase => ({ opIndex, inputs, output: op.outputs[0], outputShape: [...T[op.outputs[0]].shape] });
  switch (op.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const w = T[op.inputs[1]].shape;
      const [, h, wd] = x.shape;
      return {
        ...base([op.inputs[0]]),
        kind: op.kind,
        inputShape: [...x.shape],
        filterShape: [...w],
        strideH: op.strideH,
        strideW: op.strideW,
        dilationH: op.dilationH,
        dilationW: op.dilationW,
        padTop: padding(h, w[1], op.strideH, op.dilationH, op.padding),
        padLeft: padding(wd, w[2], op.strideW, op.dilationW, op.padding),
        depthMultiplier: op.kind === 'CONV_2D' ? 1 : op.depthMultiplier,
      };
    }
    case 'FULLY_CONNECTED': {
      const [units, depth] = T[op.inputs[1]].shape;
      return { ...base([op.inputs[0]]), kind: 'FULLY_CONNECTED', inputShape: [...x.shape], batches: numElements(x.shape) / depth, depth, units };
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const [, h, wd] = x.shape;
      return {
        ...base([op.inputs[0]]),
        kind: op.kind,
        inputShape: [...x.shape],
        filterH: op.filterH,
        filterW: op.filterW,
        strideH: op.strideH,
        strideW: op.strideW,
        padTop: padding(h, op.filterH, op.strideH, 1, op.padding),
        padLeft: padding(wd, op.filterW, op.strideW, 1, op.padding),
      };
    }
    case 'ADD':
      return { ...base([op.inputs[0], op.inputs[1]]), kind: 'ADD', input1Shape: [...x.shape], input2Shape: [...T[op.inputs[1]].shape] };
    case 'RESHAPE':
      return { ...base([op.inputs[0]]), kind: 'RESHAPE', inputShape: [...x.shape] };
    case 'SOFTMAX': {
      const depth = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1];
      return { ...base([op.inputs[0]]), kind: 'SOFTMAX', rows: depth === 0 ? 0 : numElements(x.shape) / depth, depth };
    }
    case 'QUANTIZE':
      return { ...base([op.inputs[0]]), kind: 'QUANTIZE', from: x.dtype === 'float32' ? 'float32' : 'int8' };
    case 'DEQUANTIZE':
      return { ...base([op.inputs[0]]), kind: 'DEQUANTIZE' };
  }
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

