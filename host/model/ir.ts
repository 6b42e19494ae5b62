// The graph IR every part of microsplit shares: importer, oracle, planner,
// executor. Plain data (JSON-friendly apart from typed arrays), validated once
// by `validateGraph`, which also infers and checks every op's output shape.

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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
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

/**
 * Checks the whole graph and every op's shapes, dtypes, quantization and
 * options. Throws a GraphError naming the op, its index and the field at the
 * first problem. Returns the graph itself so it can wrap a constructor call.
 */
export function validateGraph(g: Graph): Graph {
  const T = g.tensors;
  const fail = (i: number | undefined, field: string, msg: string): never => {
    const where = i === undefined ? 'graph' : `op ${i} (${g.ops[i]?.kind ?? '?'})`;
    throw new GraphError(`${where}: ${field}: ${msg}`, i, field);
  };
  if (!Array.isArray(T) || !Array.isArray(g.ops)) fail(undefined, 'tensors', 'tensors and ops must be arrays');
  T.forEach((t, ti) => {
    if (!t || !Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0))
      fail(undefined, `tensors[${ti}].shape`, `bad shape ${JSON.stringify(t?.shape)}`);
    if (!(t.dtype in DTYPE_BYTES)) fail(undefined, `tensors[${ti}].dtype`, `unknown dtype ${t.dtype}`);
    if (t.quant) {
      const q = t.quant;
      if (q.scale.length === 0 || q.scale.length !== q.zeroPoint.length)
        fail(undefined, `tensors[${ti}].quant`, 'scale and zeroPoint must be non-empty and of equal length');
      if (q.scale.some((s) => !(s > 0) || !Number.isFinite(s)) && t.dtype !== 'int32')
        fail(undefined, `tensors[${ti}].quant.scale`, `scales must be positive and finite`);
      if (q.scale.length > 1) {
        const axis = q.axis ?? 0;
        if (t.shape[axis] !== q.scale.length)
          fail(undefined, `tensors[${ti}].quant.axis`, `${q.scale.length} scales for dimension ${axis} of size ${t.shape[axis]}`);
      }
    }
    if (t.data && t.data.length !== numElements(t.shape))
      fail(undefined, `tensors[${ti}].data`, `${t.data.length} values for shape [${t.shape}]`);
  });
  const checkIdx = (ids: number[], field: string) => {
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= T.length) fail(undefined, field, `tensor index ${id} out of range`);
  };
  checkIdx(g.inputs, 'inputs');
  checkIdx(g.outputs, 'outputs');

  const produced = new Set<number>(g.inputs);
  T.forEach((t, i) => t.data && produced.add(i));

  g.ops.forEach((op, i) => {
    const f = (field: string, msg: string): never => fail(i, field, msg);
    const tin = (k: number, field: string): Tensor => {
      const id = op.inputs[k];
      if (id === undefined || id < 0 || id >= T.length) return f(field, `missing or out-of-range tensor index ${id}`);
      if (!produced.has(id)) f(field, `tensor ${id} (${T[id].name}) is used before it is produced`);
      return T[id];
    };
    const tout = (k = 0): Tensor => {
      const id = op.outputs[k];
      if (id === undefined || id < 0 || id >= T.length) return f('outputs', `missing or out-of-range tensor index ${id}`);
      return T[id];
    };
    const rank = (t: Tensor, r: number, field: string) => {
      if (t.shape.length !== r) f(field, `expected rank ${r}, got shape [${t.shape}]`);
    };
    const dtype = (t: Tensor, d: DType | DType[], field: string) => {
      const ok = Array.isArray(d) ? d.includes(t.dtype) : t.dtype === d;
      if (!ok) f(field, `expected dtype ${d}, got ${t.dtype}`);
    };
    const quant = (t: Tensor, field: string) => {
      if (!t.quant) f(field, 'missing quantization parameters');
    };
    const positive = (v: number, field: string) => {
      if (!Number.isInteger(v) || v < 1) f(field, `must be a positive integer, got ${v}`);
    };
    const expectShape = (t: Tensor, shape: number[]) => {
      if (!sameShape(t.shape, shape)) f('outputs[0].shape', `expected [${shape}], got [${t.shape}]`);
    };
    // TFLM never resizes a conv/pool output: it loops over the declared shape,
    // which may exceed the padding formula (taps outside the input are skipped).
    const expectSpatialAtLeast = (t: Tensor, [n, oh, ow, c]: number[]) => {
      const [yn, yh, yw, yc] = t.shape;
      if (t.shape.length !== 4 || yn !== n || yc !== c || yh < oh || yw < ow)
        f('outputs[0].shape', `expected [${n},>=${oh},>=${ow},${c}], got [${t.shape}]`);
    };
    const ACTS: Activation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];
    if ('activation' in op && !ACTS.includes(op.activation)) f('activation', `unknown activation ${op.activation}`);
    if ('padding' in op && op.padding !== 'SAME' && op.padding !== 'VALID') f('padding', `unknown padding ${op.padding}`);

    switch (op.kind) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const x = tin(0, 'inputs[0]');
        const w = tin(1, 'inputs[1]');
        rank(x, 4, 'inputs[0].shape');
        rank(w, 4, 'inputs[1].shape');
        dtype(x, 'int8', 'inputs[0].dtype');
        dtype(w, 'int8', 'inputs[1].dtype');
        quant(x, 'inputs[0].quant');
        quant(w, 'inputs[1].quant');
        if (!w.data) f('inputs[1]', 'weights must be constant');
        positive(op.strideH, 'strideH');
        positive(op.strideW, 'strideW');
        positive(op.dilationH, 'dilationH');
        positive(op.dilationW, 'dilationW');
        const [n, h, wd, c] = x.shape;
        let oc: number;
        if (op.kind === 'CONV_2D') {
          oc = w.shape[0];
          if (w.shape[3] !== c) f('inputs[1].shape', `filter depth ${w.shape[3]} != input channels ${c}`);
        } else {
          positive(op.depthMultiplier, 'depthMultiplier');
          oc = w.shape[3];
          if (w.shape[0] !== 1) f('inputs[1].shape', `depthwise filter must be [1,kh,kw,C*m], got [${w.shape}]`);
          if (oc !== c * op.depthMultiplier)
            f('depthMultiplier', `filter channels ${oc} != input channels ${c} x depth multiplier ${op.depthMultiplier}`);
        }
        const kh = w.shape[1];
        const kw = w.shape[2];
        const nScales = w.quant!.scale.length;
        if (nScales !== 1 && nScales !== oc) f('inputs[1].quant', `${nScales} scales for ${oc} output channels`);
        const bias = op.inputs[2] ?? -1;
        if (bias >= 0) {
          const b = tin(2, 'inputs[2]');
          dtype(b, 'int32', 'inputs[2].dtype');
          if (numElements(b.shape) !== oc) f('inputs[2].shape', `bias has ${numElements(b.shape)} values for ${oc} channels`);
          if (!b.data) f('inputs[2]', 'bias must be constant');
        }
        const oh = convOutSize(h, kh, op.strideH, op.dilationH, op.padding);
        const ow = convOutSize(wd, kw, op.strideW, op.dilationW, op.padding);
        if (oh < 1 || ow < 1) f('padding', `VALID padding leaves no output for input ${h}x${wd} and kernel ${kh}x${kw}`);
        const y = tout();
        dtype(y, 'int8', 'outputs[0].dtype');
        quant(y, 'outputs[0].quant');
        expectSpatialAtLeast(y, [n, oh, ow, oc]);
        break;
      }
      case 'FULLY_CONNECTED': {
        const x = tin(0, 'inputs[0]');
        const w = tin(1, 'inputs[1]');
        dtype(x, 'int8', 'inputs[0].dtype');
        dtype(w, 'int8', 'inputs[1].dtype');
        quant(x, 'inputs[0].quant');
        quant(w, 'inputs[1].quant');
        rank(w, 2, 'inputs[1].shape');
        if (!w.data) f('inputs[1]', 'weights must be constant');
        const [units, depth] = w.shape;
        const total = numElements(x.shape);
        if (depth === 0 || total % depth !== 0) f('inputs[1].shape', `input of ${total} values is not a multiple of depth ${depth}`);
        const nScales = w.quant!.scale.length;
        if (nScales !== 1 && nScales !== units) f('inputs[1].quant', `${nScales} scales for ${units} units`);
        const bias = op.inputs[2] ?? -1;
        if (bias >= 0) {
          const b = tin(2, 'inputs[2]');
          dtype(b, 'int32', 'inputs[2].dtype');
          if (numElements(b.shape) !== units) f('inputs[2].shape', `bias has ${numElements(b.shape)} values for ${units} units`);
        }
        const y = tout();
        dtype(y, 'int8', 'outputs[0].dtype');
        quant(y, 'outputs[0].quant');
        const batches = total / depth;
        const expected = op.keepNumDims ? [...x.shape.slice(0, -1), units] : [batches, units];
        if (numElements(y.shape) !== batches * units || y.shape[y.shape.length - 1] !== units)
          f('outputs[0].shape', `expected [${expected}], got [${y.shape}]`);
        break;
      }
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        const x = tin(0, 'inputs[0]');
        rank(x, 4, 'inputs[0].shape');
        dtype(x, 'int8', 'inputs[0].dtype');
        positive(op.strideH, 'strideH');
        positive(op.strideW, 'strideW');
        positive(op.filterH, 'filterH');
        positive(op.filterW, 'filterW');
        const [n, h, wd, c] = x.shape;
        const oh = convOutSize(h, op.filterH, op.strideH, 1, op.padding);
        const ow = convOutSize(wd, op.filterW, op.strideW, 1, op.padding);
        if (oh < 1 || ow < 1) f('padding', `VALID padding leaves no output for input ${h}x${wd}`);
        const y = tout();
        dtype(y, 'int8', 'outputs[0].dtype');
        expectSpatialAtLeast(y, [n, oh, ow, c]);
        if (x.quant && y.quant && (x.quant.zeroPoint[0] !== y.quant.zeroPoint[0] || Math.abs(x.quant.scale[0] - y.quant.scale[0]) > 1e-6))
          f('outputs[0].quant', 'pooling needs the same scale and zero point on input and output');
        break;
      }
      case 'ADD': {
        const a = tin(0, 'inputs[0]');
        const b = tin(1, 'inputs[1]');
        dtype(a, 'int8', 'inputs[0].dtype');
        dtype(b, 'int8', 'inputs[1].dtype');
        quant(a, 'inputs[0].quant');
        quant(b, 'inputs[1].quant');
        if (a.shape.length > 4 || b.shape.length > 4) f('inputs', 'ADD supports up to 4 dimensions');
        const s = broadcastShape(a.shape, b.shape);
        if (!s) f('inputs[1].shape', `[${b.shape}] does not broadcast with [${a.shape}]`);
        const y = tout();
        dtype(y, 'int8', 'outputs[0].dtype');
        quant(y, 'outputs[0].quant');
        expectShape(y, s!);
        break;
      }
      case 'RESHAPE': {
        const x = tin(0, 'inputs[0]');
        const y = tout();
        if (numElements(x.shape) !== numElements(y.shape))
          f('outputs[0].shape', `[${y.shape}] holds ${numElements(y.shape)} values, input [${x.shape}] has ${numElements(x.shape)}`);
        if (x.dtype !== y.dtype) f('outputs[0].dtype', `${y.dtype} != input ${x.dtype}`);
        break;
      }
      case 'SOFTMAX': {
        const x = tin(0, 'inputs[0]');
        dtype(x, 'int8', 'inputs[0].dtype');
        quant(x, 'inputs[0].quant');
        if (!(op.beta > 0)) f('beta', `must be positive, got ${op.beta}`);
        const y = tout();
        dtype(y, ['int8', 'int16'], 'outputs[0].dtype');
        quant(y, 'outputs[0].quant');
        if (!sameShape(x.shape, y.shape)) f('outputs[0].shape', `expected [${x.shape}], got [${y.shape}]`);
        break;
      }
      case 'QUANTIZE':
      case 'DEQUANTIZE': {
        const x = tin(0, 'inputs[0]');
        const y = tout();
        if (op.kind === 'QUANTIZE') {
          dtype(x, ['float32', 'int8'], 'inputs[0].dtype');
          dtype(y, 'int8', 'outputs[0].dtype');
          quant(y, 'outputs[0].quant');
        } else {
          dtype(x, 'int8', 'inputs[0].dtype');
          quant(x, 'inputs[0].quant');
          dtype(y, 'float32', 'outputs[0].dtype');
        }
        if (!sameShape(x.shape, y.shape)) f('outputs[0].shape', `expected [${x.shape}], got [${y.shape}]`);
        break;
      }
      default:
        fail(i, 'kind', `unsupported op ${(op as { kind: string }).kind}`);
    }
    for (const o of op.outputs) produced.add(o);
  });
  for (const o of g.outputs) if (!produced.has(o)) fail(undefined, 'outputs', `output tensor ${o} is never produced`);
  return g;
}
