// Small float models with seeded random weights and random images, for the
// quantizer and bundle tests.
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../host/eval/datasets.ts';
import { IMAGE_SIZE, PIXEL_QUANT } from '../host/eval/datasets.ts';
import type { FloatModel, LayerSpec } from '../tools/models/quantize.ts';
import { buildTfModel } from '../host/eval/tfjs-model.ts';
import { toFloatModel } from '../tools/models/calibrate.ts';

/** A seeded PRNG (mulberry32) returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` random 28x28 int8 images with random labels. */
export function randomImages(count: number, seed: number): LabelledImages {
  const r = prng(seed);
  const pixels = Int8Array.from({ length: count * IMAGE_SIZE }, () => Math.floor(r() * 256) - 128);
  const labels = Uint8Array.from({ length: count }, () => Math.floor(r() * 10));
  return { count, pixels, labels };
}

/** A 28x28x1 model of these layers: glorot kernels, random biases in [-0.1, 0.1). */
export function randomModel(name: string, layers: LayerSpec[], seed: number): { tfModel: tf.Sequential; floatModel: FloatModel } {
  const tfModel = buildTfModel([28, 28, 1], layers, seed);
  const r = prng(seed);
  for (const l of tfModel.layers) {
    const w = l.getWeights();
    if (w.length === 2) l.setWeights([w[0], tf.tensor(Float32Array.from({ length: w[1].size }, () => (r() - 0.5) / 5), w[1].shape)]);
  }
  return { tfModel, floatModel: toFloatModel(tfModel, layers, name, PIXEL_QUANT) };
}
