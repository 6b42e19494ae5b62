// TFLM's "Prepare" for every IR op: everything an op's inner loop needs,
// computed once from the graph (multipliers, shifts, zero points, clamp,
// padding, shapes). The loops then never look at scales or options again.
// Used by the oracle (host/model/oracle.ts) and by the host-side packing of
// the AssemblyScript kernels; both must read the same numbers.
//
// Conventions for every field below:
// - shapes are the tensors' own shapes; conv and pool shapes are NHWC;
// - `shift` > 0 is a left shift, < 0 a right shift (TFLM's per-channel sign);
// - zero points are stored as they are in the tensors (not negated);
// - `actMin`/`actMax` are the clamp in the output type, activation included;
// - `inputs` are the tensor ids of the op's data inputs in kernel order (the
//   filter and bias are not among them: they are in `filter` and `bias`).

import {
  GraphError,
  type Activation,
  type Graph,
  type Tensor,
} from './ir.ts';
import {
  activationRange,
  addScaling,
  perChannelEffectiveScale,
  perTensorFcEffectiveScale,
  quantizeMultiplier,
  softmaxScaling,
} from './arith.ts';
import {
  type AddGeometry,
  type ConvGeometry,
  type DequantizeGeometry,
  type FullyConnectedGeometry,
  type PoolGeometry,
  type QuantizeGeometry,
  type ReshapeGeometry,
  type SoftmaxGeometry,
} from './geometry.ts';
import { opGeometry } from './ops/table.ts';

export interface ConvParams extends ConvGeometry {
  inputZeroPoint: number;
  outputZeroPoint: number;
  /** One per output channel (a per-tensor filter scale is broadcast). */
  multipliers: Int32Array;
  shifts: Int32Array;
  actMin: number;
  actMax: number;
  /** The whole filter, row-major in filterShape (zero point 0, checked). */
  filter: Int8Array;
  /** One int32 per output channel, or null without bias. */
  bias: Int32Array | null;
}

export interface FullyConnectedParams extends FullyConnectedGeometry {
  inputZeroPoint: number;
  /** Weight zero point: always 0 (checked, as TFLM asserts); the accumulator is Σ (w - filterZeroPoint) * (x - inputZeroPoint). */
  filterZeroPoint: number;
  outputZeroPoint: number;
  /** True when the filter has one scale per unit (multipliers in double); false: one scale, float32 product. */
  perChannel: boolean;
  /** One per unit (the per-tensor value repeated). */
  multipliers: Int32Array;
  shifts: Int32Array;
  actMin: number;
  actMax: number;
  /** [units, depth], row-major. */
  filter: Int8Array;
  bias: Int32Array | null;
}

export interface PoolParams extends PoolGeometry {
  actMin: number;
  actMax: number;
}

export interface AddParams extends AddGeometry {
  input1ZeroPoint: number;
  input2ZeroPoint: number;
  outputZeroPoint: number;
  /** Both inputs are multiplied by 2^leftShift (20) before scaling. */
  leftShift: number;
  /** All three shifts are <= 0. */
  input1Multiplier: number;
  input1Shift: number;
  input2Multiplier: number;
  input2Shift: number;
  outputMultiplier: number;
  outputShift: number;
  actMin: number;
  actMax: number;
}

export type ReshapeParams = ReshapeGeometry;

export interface SoftmaxParams extends SoftmaxGeometry {
  inputMultiplier: number;
  /** >= 0. */
  inputLeftShift: number;
  diffMin: number;
  outputType: 'int8' | 'int16';
}

/** QUANTIZE from float32: q = clamp(zeroPoint + round(float32(x / scale))). */
export interface QuantizeFloatParams extends QuantizeGeometry {
  from: 'float32';
  /** The float32 output scale (the one non-integer in these records). */
  scale: number;
  zeroPoint: number;
}

/** QUANTIZE int8 -> int8: q = clamp(MultiplyByQuantizedMultiplier(x - inZp, M, shift) + outZp). */
export interface RequantizeParams extends QuantizeGeometry {
  from: 'int8';
  inputZeroPoint: number;
  outputZeroPoint: number;
  multiplier: number;
  shift: number;
}

/** DEQUANTIZE: x = float32(scale * (q - zeroPoint)), scale widened to double. */
export interface DequantizeParams extends DequantizeGeometry {
  scale: number;
  zeroPoint: number;
}

export type OpParams =
  | ConvParams
  | FullyConnectedParams
  | PoolParams
  | AddParams
  | ReshapeParams
  | SoftmaxParams
  | QuantizeFloatParams
  | RequantizeParams
  | DequantizeParams;

/** Prepares op `opIndex` of an already validated graph. Throws a GraphError naming the op and field. */
export function prepareOp(graph: Graph, opIndex: number): OpParams {
  const op = graph.ops[opIndex];
  if (!op) throw new GraphError(`op ${opIndex}: no such op (graph has ${graph.ops.length})`, opIndex, 'ops');
  const fail = (field: string, msg: string): never => {
    throw new GraphError(`op ${opIndex} (${op.kind}): ${field}: ${msg}`, opIndex, field);
  };
  const T = graph.tensors;
  const tensor = (k: number): Tensor => T[op.inputs[k]];
  const zp = (t: Tensor): number => t.quant?.zeroPoint[0] ?? 0;
  const scale = (t: Tensor, field: string): number => t.quant?.scale[0] ?? fail(field, 'missing quantization scale');
  const out = T[op.outputs[0]];
  const geo = opGeometry(graph, opIndex);
  const clampOf = ({ activation }: { activation: Activation }) => {
    const [actMin, actMax] = activationRange(activation, scale(out, 'outputs[0].quant'), zp(out));
    return { actMin, actMax };
  };
  const biasOf = (): Int32Array | null => {
    const id = op.inputs[2] ?? -1;
    if (id < 0) return null;
    const d = T[id].data;
    if (!(d instanceof Int32Array)) return fail('inputs[2]', 'bias data must be an Int32Array');
    return d;
  };
  const filterOf = (): Int8Array => {
    const w = tensor(1);
    if (!(w.data instanceof Int8Array)) return fail('inputs[1]', 'filter data must be an Int8Array');
    return w.data;
  };
  /** Per-channel multipliers from per-channel effective scales. */
  const multipliersOf = (count: number, effective: (c: number) => number) => {
    const multipliers = new Int32Array(count);
    const shifts = new Int32Array(count);
    for (let c = 0; c < count; c++) {
      const q = quantizeMultiplier(effective(c));
      multipliers[c] = q.multiplier;
      shifts[c] = q.shift;
    }
    return { multipliers, shifts };
  };

  switch (op.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const x = tensor(0);
      const w = tensor(1);
      if (w.quant!.zeroPoint.some((z) => z !== 0)) fail('inputs[1].quant.zeroPoint', 'conv weights must have zero point 0 (TFLM asserts it)');
      const outC = out.shape[3];
      const inScale = scale(x, 'inputs[0].quant');
      const outScale = scale(out, 'outputs[0].quant');
      const ws = w.quant!.scale;
      return {
        ...(geo as ConvGeometry),
        inputZeroPoint: zp(x),
        outputZeroPoint: zp(out),
        ...multipliersOf(outC, (c) => perChannelEffectiveScale(inScale, ws.length === 1 ? ws[0] : ws[c], outScale)),
        ...clampOf(op),
        filter: filterOf(),
        bias: biasOf(),
      };
    }
    case 'FULLY_CONNECTED': {
      const x = tensor(0);
      const w = tensor(1);
      const inScale = scale(x, 'inputs[0].quant');
      const outScale = scale(out, 'outputs[0].quant');
      const ws = w.quant!.scale;
      const perChannel = ws.length > 1;
      if (w.quant!.zeroPoint.some((z) => z !== 0)) fail('inputs[1].quant.zeroPoint', 'FC weights must have zero point 0 (TFLM asserts it)');
      return {
        ...(geo as FullyConnectedGeometry),
        inputZeroPoint: zp(x),
        filterZeroPoint: zp(w),
        outputZeroPoint: zp(out),
        perChannel,
        ...multipliersOf(w.shape[0], (c) =>
          perChannel
            ? perChannelEffectiveScale(inScale, ws[c], outScale)
            : perTensorFcEffectiveScale(inScale, ws[0], outScale),
        ),
        ...clampOf(op),
        filter: filterOf(),
        bias: biasOf(),
      };
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      return {
        ...(geo as PoolGeometry),
        ...clampOf(op),
      };
    }
    case 'ADD': {
      const a = tensor(0);
      const b = tensor(1);
      const s = addScaling(scale(a, 'inputs[0].quant'), scale(b, 'inputs[1].quant'), scale(out, 'outputs[0].quant'));
      return {
        ...(geo as AddGeometry),
        input1ZeroPoint: zp(a),
        input2ZeroPoint: zp(b),
        outputZeroPoint: zp(out),
        leftShift: s.leftShift,
        input1Multiplier: s.input1.multiplier,
        input1Shift: s.input1.shift,
        input2Multiplier: s.input2.multiplier,
        input2Shift: s.input2.shift,
        outputMultiplier: s.output.multiplier,
        outputShift: s.output.shift,
        ...clampOf(op),
      };
    }
    case 'RESHAPE':
      return geo as ReshapeGeometry;
    case 'SOFTMAX': {
      const x = tensor(0);
      const outputType = out.dtype as 'int8' | 'int16';
      const [wantScale, wantZp] = outputType === 'int8' ? [1 / 256, -128] : [1 / 65536, -32768];
      const outScale = scale(out, 'outputs[0].quant');
      if (zp(out) !== wantZp || Math.abs(outScale - wantScale) > wantScale * 1e-3)
        fail('outputs[0].quant', `${outputType} softmax output needs scale ${wantScale} and zero point ${wantZp}, got ${outScale} and ${zp(out)}`);
      return {
        ...(geo as SoftmaxGeometry),
        ...softmaxScaling(op.beta, scale(x, 'inputs[0].quant')),
        outputType,
      };
    }
    case 'QUANTIZE': {
      const x = tensor(0);
      const outScale = scale(out, 'outputs[0].quant');
      if (x.dtype === 'float32')
        return { ...(geo as QuantizeGeometry), from: 'float32', scale: outScale, zeroPoint: zp(out) };
      const q = quantizeMultiplier(scale(x, 'inputs[0].quant') / outScale);
      return {
        ...(geo as QuantizeGeometry),
        from: 'int8',
        inputZeroPoint: zp(x),
        outputZeroPoint: zp(out),
        multiplier: q.multiplier,
        shift: q.shift,
      };
    }
    case 'DEQUANTIZE': {
      const x = tensor(0);
      return { ...(geo as DequantizeGeometry), scale: scale(x, 'inputs[0].quant'), zeroPoint: zp(x) };
    }
  }
}
