// Post-training quantization of a float sequential CNN into the int8 graph
// IR, the way TensorFlow Lite's converter does it:
//
// - activations: asymmetric int8 per tensor; the range is the min/max seen on
//   calibration samples (held out from training, never the test split),
//   widened to include 0 so that 0.0 is exact (zero padding stays exact);
// - conv and depthwise weights: symmetric int8 per output channel
//   (zero point 0, values in -127..127); fully connected weights: symmetric
//   per tensor, the converter's default for FULLY_CONNECTED;
// - bias: int32 with scale input_scale * weight_scale[c], zero point 0;
// - a fused ReLU/ReLU6 stays on the op as its activation; the kernels apply
//   it as the clamp of the requantized output, and the calibrated range of
//   the output (min 0) already gives it zero point -128;
// - pooling and RESHAPE keep their input's quantization; SOFTMAX outputs use
//   TFLite's fixed scale 1/256 and zero point -128.
//
// Inputs and outputs stay int8 (no QUANTIZE/DEQUANTIZE ops): devices exchange
// int8 tensors, and an image's pixels map exactly onto the input quantization
// (see datasets.ts). Callers dequantize the output themselves if needed.
import type { Activation, Graph, Op, Quant, Tensor } from '../../host/model/ir.ts';
import { convOutSize } from '../../host/model/ir.ts';
import { validateGraph } from '../../host/model/validate.ts';
import type { FloatModel, LayerWeights, WeightedSpec } from '../../host/eval/float-model.ts';

export type { FloatActivation, ConvSpec, DepthwiseSpec, DenseSpec, PoolSpec, FlattenSpec, SoftmaxSpec, LayerSpec, WeightedSpec, LayerWeights, FloatLayer, FloatModel } from '../../host/eval/float-model.ts';
export { hasWeights } from '../../host/eval/float-model.ts';

/** Float range of one layer's output over the calibration samples. */
export interface ActivationRange {
  min: number;
  max: number;
}

/** Round half away from zero, as TFLite's converter (std::round) does;
 * Math.round would send -63.5 to -63. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

const QMIN = -128;
const QMAX = 127;
const WMAX = 127;
const SOFTMAX_QUANT = { scale: 1 / 256, zeroPoint: -128 };

/** Asymmetric int8 parameters for a float range, widened to include 0. */
export function activationQuant(range: ActivationRange): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max)
    throw new Error(`bad activation range [${range.min}, ${range.max}]`);
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  // An all-zero activation still needs a positive scale; any will do.
  const scale = max > min ? (max - min) / (QMAX - QMIN) : 1;
  const zeroPoint = Math.min(QMAX, Math.max(QMIN, roundHalfAway(QMIN - min / scale)));
  return { scale, zeroPoint };
}

/**
 * Symmetric int8 quantization of `w` whose output channel is the fastest
 * varying index, `channels` of them (the tfjs layouts above), or one scale
 * for all when `perChannel` is false. Returns the values (still in `w`'s layout) and scales.
 */
export function quantizeWeights(w: Float32Array, channels: number, perChannel: boolean): { q: Int8Array; scales: number[] } {
  const nScales = perChannel ? channels : 1;
  const maxAbs = new Array<number>(nScales).fill(0);
  for (let i = 0; i < w.length; i++) {
    const s = perChannel ? i % channels : 0;
    maxAbs[s] = Math.max(maxAbs[s], Math.abs(w[i]));
  }
  const scales = maxAbs.map((m) => (m > 0 ? m / WMAX : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scales[perChannel ? i % channels : 0];
    q[i] = Math.max(-WMAX, Math.min(WMAX, roundHalfAway(w[i] / s)));
  }
  return { q, scales };
}

export function quantizeBias(b: Float32Array, inputScale: number, weightScales: number[]): { q: Int32Array; scales: number[] } {
  const scales = Array.from(b, (_, c) => inputScale * weightScales[weightScales.length === 1 ? 0 : c]);
  const q = new Int32Array(b.length);
  for (let c = 0; c < b.length; c++) q[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfAway(b[c] / scales[c])));
  return { q, scales };
}

/** [kh, kw, in, out] -> TFLite's [out, kh, kw, in]. */
function hwioToOhwi(q: Int8Array, [kh, kw, ci, co]: number[]): Int8Array {
  const out = new Int8Array(q.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * kh + y) * kw + x) * ci + i] = q[((y * kw + x) * ci + i) * co + o];
  return out;
}

/** [in, units] -> TFLite's [units, in]. */
function transpose2d(q: Int8Array, [rows, cols]: number[]): Int8Array {
  const out = new Int8Array(q.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = q[r * cols + c];
  return out;
}

/** Builds the graph tensor by tensor, one sequential layer after another. */
class GraphBuilder {
  readonly tensors: Tensor[] = [];
  readonly ops: Op[] = [];

  add(t: Tensor): number {
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  activation(name: string, shape: number[], quant: { scale: number; zeroPoint: number }): number {
    return this.add({ name, shape, dtype: 'int8', quant: { scale: [quant.scale], zeroPoint: [quant.zeroPoint] } });
  }
}

function weightedLayer(
  b: GraphBuilder,
  layer: WeightedSpec & LayerWeights,
  name: string,
  x: number,
  outQuant: { scale: number; zeroPoint: number },
): number {
  const xt = b.tensors[x];
  const inScale = xt.quant!.scale[0];
  const act: Activation = layer.activation;
  const ks = layer.kernelShape;
  // Output channels are the last axis, or for depthwise the last two
  // [C, m] taken together (channel c*m + j), which is the same flat order.
  const outChannels = layer.kind === 'depthwise' ? ks[2] * ks[3] : ks[ks.length - 1];
  const perChannel = layer.kind !== 'dense';
  const w = quantizeWeights(layer.kernel, outChannels, perChannel);
  if (layer.bias.length !== outChannels) throw new Error(`${name}: ${layer.bias.length} biases for ${outChannels} output channels`);
  const bias = quantizeBias(layer.bias, inScale, w.scales);
  const wQuant = (axis: number): Quant => ({ scale: w.scales, zeroPoint: w.scales.map(() => 0), ...(perChannel ? { axis } : {}) });
  const biasId = b.add({
    name: `${name}/bias`,
    shape: [outChannels],
    dtype: 'int32',
    quant: { scale: bias.scales, zeroPoint: bias.scales.map(() => 0), ...(bias.scales.length > 1 ? { axis: 0 } : {}) },
    data: bias.q,
  });
  if (layer.kind === 'dense') {
    const wId = b.add({ name: `${name}/weights`, shape: [ks[1], ks[0]], dtype: 'int8', quant: wQuant(0), data: transpose2d(w.q, ks) });
    const y = b.activation(`${name}/out`, [1, layer.units], outQuant);
    b.ops.push({ kind: 'FULLY_CONNECTED', inputs: [x, wId, biasId], outputs: [y], activation: act, keepNumDims: false });
    return y;
  }
  const [, h, wd] = xt.shape;
  const [kh, kw] = layer.kernelSize;
  const [sh, sw] = layer.strides;
  const outShape = [1, convOutSize(h, kh, sh, 1, layer.padding), convOutSize(wd, kw, sw, 1, layer.padding), outChannels];
  const common = { padding: layer.padding, strideH: sh, strideW: sw, dilationH: 1, dilationW: 1, activation: act };
  if (layer.kind === 'conv2d') {
    const wId = b.add({ name: `${name}/weights`, shape: [ks[3], kh, kw, ks[2]], dtype: 'int8', quant: wQuant(0), data: hwioToOhwi(w.q, ks) });
    const y = b.activation(`${name}/out`, outShape, outQuant);
    b.ops.push({ kind: 'CONV_2D', inputs: [x, wId, biasId], outputs: [y], ...common });
    return y;
  }
  // Depthwise [kh, kw, C, m] flattens to TFLite's [1, kh, kw, C*m] unchanged:
  // output channel c*m + j is input channel c's j-th filter in both.
  const wId = b.add({ name: `${name}/weights`, shape: [1, kh, kw, outChannels], dtype: 'int8', quant: wQuant(3), data: w.q });
  const y = b.activation(`${name}/out`, outShape, outQuant);
  b.ops.push({ kind: 'DEPTHWISE_CONV_2D', inputs: [x, wId, biasId], outputs: [y], depthMultiplier: layer.depthMultiplier, ...common });
  return y;
}

/**
 * Quantizes `model` given the calibrated float range of every layer's output
 * (`ranges[i]` for `model.layers[i]`; pooling, flatten and softmax entries
 * are not used since their output quantization is fixed by the rules above).
 * Returns a validated int8 graph with one input [1, ...inputShape] and one
 * output, the last layer's.
 */
export function quantizeModel(model: FloatModel, ranges: ActivationRange[]): Graph {
  if (ranges.length !== model.layers.length)
    throw new Error(`${ranges.length} calibration ranges for ${model.layers.length} layers`);
  const b = new GraphBuilder();
  let x = b.activation('input', [1, ...model.inputShape], model.inputQuant);
  const input = x;
  model.layers.forEach((layer, i) => {
    const name = `${i}_${layer.kind}`;
    const xt = b.tensors[x];
    const inQuant = { scale: xt.quant!.scale[0], zeroPoint: xt.quant!.zeroPoint[0] };
    switch (layer.kind) {
      case 'conv2d':
      case 'depthwise':
      case 'dense':
        x = weightedLayer(b, layer, name, x, activationQuant(ranges[i]));
        break;
      case 'maxpool':
      case 'avgpool': {
        const [, h, w, c] = xt.shape;
        const [ph, pw] = layer.poolSize;
        const [sh, sw] = layer.strides;
        const outShape = [1, convOutSize(h, ph, sh, 1, layer.padding), convOutSize(w, pw, sw, 1, layer.padding), c];
        const y = b.activation(`${name}/out`, outShape, inQuant);
        b.ops.push({
          kind: layer.kind === 'maxpool' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D',
          inputs: [x],
          outputs: [y],
          padding: layer.padding,
          strideH: sh,
          strideW: sw,
          filterH: ph,
          filterW: pw,
          activation: 'NONE',
        });
        x = y;
        break;
      }
      case 'flatten': {
        const n = xt.shape.slice(1).reduce((a, v) => a * v, 1);
        const y = b.activation(`${name}/out`, [1, n], inQuant);
        b.ops.push({ kind: 'RESHAPE', inputs: [x], outputs: [y], newShape: [1, n] });
        x = y;
        break;
      }
      case 'softmax': {
        const y = b.activation(`${name}/out`, xt.shape, SOFTMAX_QUANT);
        b.ops.push({ kind: 'SOFTMAX', inputs: [x], outputs: [y], beta: 1 });
        x = y;
        break;
      }
    }
  });
  return validateGraph({ name: model.name, tensors: b.tensors, ops: b.ops, inputs: [input], outputs: [x] });
}
