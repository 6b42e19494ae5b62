// A float model in tfjs: build a sequential model from layer specs, put a
// FloatModel's weights in, and predict (eval's float reference). Training
// and calibration build on this in tools/models/.
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from './datasets.ts';
import { IMAGE_SIDE, IMAGE_SIZE } from './datasets.ts';
import type { FloatActivation, FloatLayer, FloatModel, LayerSpec } from './float-model.ts';
import { hasWeights } from './float-model.ts';

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

/** Images per predict call. */
export const BATCH = 250;

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

/** Selects tfjs's wasm backend (XNNPACK) for inference; loaded only here, since registering it makes it every later model's default. */
export async function useWasmInference(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not start');
  await tf.ready();
}
