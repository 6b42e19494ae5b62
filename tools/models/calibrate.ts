// The training side of the float models in tfjs: read a trained model's
// weights into a FloatModel, and the per-layer output ranges the quantizer
// calibrates with.
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../../host/eval/datasets.ts';
import type { FloatLayer, FloatModel, LayerSpec } from '../../host/eval/float-model.ts';
import { BATCH, floatBatch } from '../../host/eval/tfjs-model.ts';
import type { ActivationRange } from './quantize.ts';

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

/** Every layer's float output for images [from, from+n). */
export function layerOutputs(model: tf.Sequential, set: LabelledImages, from: number, n: number, quant: FloatModel['inputQuant']): tf.Tensor[] {
  const probe = tf.model({ inputs: model.inputs, outputs: model.layers.map((l) => l.output as tf.SymbolicTensor) });
  return tf.tidy(() => probe.predict(floatBatch(set, from, n, quant)) as tf.Tensor[]);
}

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
