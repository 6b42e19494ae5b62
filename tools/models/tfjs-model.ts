// The float side of the bundled models, in tfjs: build a sequential model
// from layer specs, take its weights out as a FloatModel (the quantizer's
// input) and put them back, compute calibration ranges, and predict.
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../../host/model/datasets.ts';
import { IMAGE_SIDE, IMAGE_SIZE } from '../../host/model/datasets.ts';
import type { ActivationRange, FloatActivation, FloatLayer, FloatModel, LayerSpec } from '../../host/model/quantize.ts';
import { hasWeights } from '../../host/model/quantize.ts';

const TF_ACTIVATION: Record<FloatActivation, 'linear' | 'relu' | 'relu6'> = { NONE: 'linear', RELU: 'relu', RELU6: 'relu6' };

function tfLayer(spec: LayerSpec, first: { inputShape: number[] } | object, seed: number): tf.layers.Layer {
  const init = { kernelInitializer: tf.initializers.glorotUniform({ seed }) };
  const pad = (p: 'SAME' | 'VALID') => (p === 'SAME' ? 'same' : 'valid');
  switch (spec.kind) {
    case 'conv2d':
      return tf.layers.conv2d({ ...first, ...init, filters: spec.filters, kernelSize: spec.kernelSize, strides: spec.strides, padding: pad(spec.padding), activation: TF_ACTIVATION[spec.activation] });
    case 'depthwise':
      return tf.layers.depthwiseConv2d({
        ...first,
        depthwiseInitializer: tf.initializers.glorotUniform({ seed }),
        depthMultiplier: spec.depthMultiplier,
        kernelSize: spec.kernelSize,
        strides: spec.strides,
        padding: pad(spec.padding),
        activation: TF_ACTIVATION[spec.activation],
      });
    case 'dense':
      return tf.layers.dense({ ...first, ...init, units: spec.units, activation: TF_ACTIVATION[spec.activation] });
    case 'maxpool':
      return tf.layers.maxPooling2d({ ...first, poolSize: spec.poolSize, strides: spec.strides, padding: pad(spec.padding) });
    case 'avgpool':
      return tf.layers.averagePooling2d({ ...first, poolSize: spec.poolSize, strides: spec.strides, padding: pad(spec.padding) });
    case 'flatten':
      return tf.layers.flatten(first);
    case 'softmax':
      return tf.layers.softmax(first);
  }
}

/** A fresh, randomly initialised (seeded) tfjs model for these layers. */
export function buildTfModel(inputShape: number[], specs: LayerSpec[], seed = 1): tf.Sequential {
  const model = tf.sequential();
  specs.forEach((s, i) => model.add(tfLayer(s, i === 0 ? { inputShape } : {}, seed + i)));
  return model;
}

/** The layer spec part of a float layer (its weights dropped). */
export function specOf(layer: FloatLayer): LayerSpec {
  if (!hasWeights(layer)) return layer;
  const { kernel: _k, kernelShape: _s, bias: _b, ...spec } = layer;
  return spec;
}

/** Reads a trained tfjs model's weights into a FloatModel. */
export function toFloatModel(model: tf.Sequential, specs: LayerSpec[], name: string, inputQuant: FloatModel['inputQuant']): FloatModel {
  if (model.layers.length !== specs.length) throw new Error(`${model.layers.length} tfjs layers for ${specs.length} specs`);
  const layers: FloatLayer[] = specs.map((spec, i) => {
    if (spec.kind !== 'conv2d' && spec.kind !== 'depthwise' && spec.kind !== 'dense') return spec;
    const [k, b] = model.layers[i].getWeights();
    return { ...spec, kernel: k.dataSync() as Float32Array, kernelShape: k.shape, bias: b.dataSync() as Float32Array };
  });
  const inputShape = (model.inputs[0].shape as number[]).slice(1);
  return { name, inputShape, inputQuant, layers };
}

/** A tfjs model computing `fm` (for float accuracy and calibration). */
export function fromFloatModel(fm: FloatModel): tf.Sequential {
  const model = buildTfModel(fm.inputShape, fm.layers.map(specOf));
  fm.layers.forEach((l, i) => {
    if (hasWeights(l)) model.layers[i].setWeights([tf.tensor(l.kernel, l.kernelShape), tf.tensor(l.bias, [l.bias.length])]);
  });
  return model;
}

/** Float input batch [n, 28, 28, 1] for images [from, from+n): real = scale * (q - zp). */
export function floatBatch(set: LabelledImages, from: number, n: number, quant: FloatModel['inputQuant']): tf.Tensor4D {
  const q = set.pixels.subarray(from * IMAGE_SIZE, (from + n) * IMAGE_SIZE);
  const f = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) f[i] = quant.scale * (q[i] - quant.zeroPoint);
  return tf.tensor4d(f, [n, IMAGE_SIDE, IMAGE_SIDE, 1]);
}

/** Every layer's float output for images [from, from+n). */
export function layerOutputs(model: tf.Sequential, set: LabelledImages, from: number, n: number, quant: FloatModel['inputQuant']): tf.Tensor[] {
  const probe = tf.model({ inputs: model.inputs, outputs: model.layers.map((l) => l.output as tf.SymbolicTensor) });
  return tf.tidy(() => probe.predict(floatBatch(set, from, n, quant)) as tf.Tensor[]);
}

const BATCH = 250;

/** Min/max of every layer's output over `set` (the quantizer's calibration). */
export function calibrate(model: tf.Sequential, set: LabelledImages, quant: FloatModel['inputQuant']): ActivationRange[] {
  const ranges: ActivationRange[] = model.layers.map(() => ({ min: Infinity, max: -Infinity }));
  for (let from = 0; from < set.count; from += BATCH) {
    const outs = layerOutputs(model, set, from, Math.min(BATCH, set.count - from), quant);
    tf.tidy(() =>
      outs.forEach((o, i) => {
        ranges[i].min = Math.min(ranges[i].min, o.min().dataSync()[0]);
        ranges[i].max = Math.max(ranges[i].max, o.max().dataSync()[0]);
      }),
    );
    tf.dispose(outs);
  }
  return ranges;
}

/** The float model's top-1 class for every image of `set`. */
export function predictFloat(model: tf.Sequential, set: LabelledImages, quant: FloatModel['inputQuant']): Uint8Array {
  const out = new Uint8Array(set.count);
  for (let from = 0; from < set.count; from += BATCH) {
    const n = Math.min(BATCH, set.count - from);
    const cls = tf.tidy(() => (model.predict(floatBatch(set, from, n, quant)) as tf.Tensor).argMax(-1).dataSync());
    out.set(cls, from);
  }
  return out;
}
