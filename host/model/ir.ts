// The graph IR every part of microsplit shares: importer, oracle, planner,
// executor. Plain data (JSON-friendly apart from typed arrays), validated once
// by `validateGraph` (validate.ts), which asks each op kind's file in ops/ to
// check its shapes, dtypes and options.

export type DType = 'int8' | 'int16' | 'int32' | 'float32';
export type Activation = 'NONE' | 'RELU' | 'RELU6' | 'RELU_N1_TO_1';
export type Padding = 'SAME' | 'VALID';

/** Affine quantization: real = scale * (q - zeroPoint). One entry = per tensor;
 * several = per channel along `axis`. */
export interface Quant {
  scale: number[];
  zeroPoint: number[];
  axis?: number;
}

export type TensorData = Int8Array | Int16Array | Int32Array | Float32Array;

export interface Tensor {
  name: string;
  shape: number[];
  dtype: DType;
  quant?: Quant;
  /** Constant data (weights, bias); absent for activations. Row-major. */
  data?: TensorData;
}

interface OpBase {
  /** Tensor indices; -1 marks an absent optional input (a conv without bias). */
  inputs: number[];
  outputs: number[];
}

export interface Conv2DOp extends OpBase {
  kind: 'CONV_2D';
  padding: Padding;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  activation: Activation;
}

export interface DepthwiseConv2DOp extends OpBase {
  kind: 'DEPTHWISE_CONV_2D';
  padding: Padding;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  depthMultiplier: number;
  activation: Activation;
}

export interface FullyConnectedOp extends OpBase {
  kind: 'FULLY_CONNECTED';
  activation: Activation;
  keepNumDims: boolean;
}

export interface Pool2DOp extends OpBase {
  kind: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D';
  padding: Padding;
  strideH: number;
  strideW: number;
  filterH: number;
  filterW: number;
  activation: Activation;
}

export interface AddOp extends OpBase {
  kind: 'ADD';
  activation: Activation;
}

export interface ReshapeOp extends OpBase {
  kind: 'RESHAPE';
  /** Target shape; one entry may be -1. The optional second input is ignored. */
  newShape: number[];
}

export interface SoftmaxOp extends OpBase {
  kind: 'SOFTMAX';
  beta: number;
}

export interface QuantizeOp extends OpBase {
  kind: 'QUANTIZE' | 'DEQUANTIZE';
}

export type Op =
  | Conv2DOp
  | DepthwiseConv2DOp
  | FullyConnectedOp
  | Pool2DOp
  | AddOp
  | ReshapeOp
  | SoftmaxOp
  | QuantizeOp;

export type OpKind = Op['kind'];

export const OP_KINDS: readonly OpKind[] = [
  'CONV_2D',
  'DEPTHWISE_CONV_2D',
  'FULLY_CONNECTED',
  'MAX_POOL_2D',
  'AVERAGE_POOL_2D',
  'ADD',
  'RESHAPE',
  'SOFTMAX',
  'QUANTIZE',
  'DEQUANTIZE',
];

export interface Graph {
  name?: string;
  tensors: Tensor[];
  ops: Op[];
  inputs: number[];
  outputs: number[];
}

export class GraphError extends Error {
  constructor(
    message: string,
    readonly opIndex?: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export const DTYPE_BYTES: Record<DType, number> = { int8: 1, int16: 2, int32: 4, float32: 4 };

export function numElements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(t: Tensor): number {
  return numElements(t.shape) * DTYPE_BYTES[t.dtype];
}

/** Output size along one axis, TFLite's rule (padding.h). */
export function convOutSize(inSize: number, k: number, stride: number, dilation: number, padding: Padding): number {
  const effK = (k - 1) * dilation + 1;
  return padding === 'SAME' ? Math.ceil(inSize / stride) : Math.floor((inSize - effK) / stride) + 1;
}

/** Top/left padding offset, TFLite's rule. */
export function padOffset(inSize: number, outSize: number, k: number, stride: number, dilation: number): number {
  const effK = (k - 1) * dilation + 1;
  return Math.max(0, Math.floor(((outSize - 1) * stride + effK - inSize) / 2));
}

/** TFLM derives the padding offset from the formula's output size, even when the declared output is larger. */
export function padBefore(size: number, k: number, stride: number, dilation: number, mode: Padding): number {
  return padOffset(size, convOutSize(size, k, stride, dilation, mode), k, stride, dilation);
}

/** Numpy broadcast of two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(Math.max(da, db));
  }
  return out;
}
