// The post-training quantizer: its arithmetic rules, and whole layers of
// every kind quantized and run through the oracle against tfjs's float
// result (which catches wrong weight layouts, scales and zero points).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../host/model/ir.ts';
import { oracle } from '../host/model/oracle.ts';
import type { LayerSpec } from '../tools/models/quantize.ts';
import { activationQuant, quantizeBias, quantizeModel, quantizeWeights } from '../tools/models/quantize.ts';
import { image, PIXEL_QUANT } from '../host/eval/datasets.ts';
import { calibrate, layerOutputs } from '../tools/models/calibrate.ts';
import { randomImages, randomModel } from './quantize-fixtures.ts';

describe('activationQuant', () => {
  it.each([
    { name: 'ReLU output [0, 6]', min: 0, max: 6 },
    { name: 'symmetric [-3, 3]', min: -3, max: 3 },
    { name: 'all positive [2, 5] (widened to include 0)', min: 2, max: 5 },
    { name: 'all negative [-4, -1] (widened to include 0)', min: -4, max: -1 },
    { name: 'lopsided [-0.01, 10]', min: -0.01, max: 10 },
  ])('$name: 0.0 is exact and the range fits in int8', ({ min, max }) => {
    const { scale, zeroPoint } = activationQuant({ min, max });
    expect(Number.isInteger(zeroPoint)).toBe(true);
    expect(zeroPoint).toBeGreaterThanOrEqual(-128);
    expect(zeroPoint).toBeLessThanOrEqual(127);
    // Both ends of the range (and 0) land inside -128..127 after rounding.
    for (const v of [Math.min(0, min), Math.max(0, max)]) {
      const q = Math.round(v / scale) + zeroPoint;
      expect(q).toBeGreaterThanOrEqual(-128);
      expect(q).toBeLessThanOrEqual(127);
    }
    expect(scale).toBeCloseTo((Math.max(0, max) - Math.min(0, min)) / 255, 12);
  });

  it('gives a ReLU output zero point -128', () => {
    expect(activationQuant({ min: 0, max: 3.7 }).zeroPoint).toBe(-128);
  });

  it('refuses an inverted range in one line', () => {
    expect(() => activationQuant({ min: 2, max: 1 })).toThrow('bad activation range [2, 1]');
  });
});

describe('quantizeWeights', () => {
  // Two output channels interleaved on the last axis: [a0, b0, a1, b1, a2, b2].
  const w = Float32Array.from([0.5, -2, -0.25, 1, 0.125, 0.5]);

  it('per channel: each channel max |w| maps to 127 and the error is at most half a step', () => {
    const { q, scales } = quantizeWeights(w, 2, true);
    expect(scales).toEqual([0.5 / 127, 2 / 127]);
    expect(Array.from(q)).toEqual([127, -127, -64, 64, 32, 32]);
    w.forEach((v, i) => expect(Math.abs(q[i] * scales[i % 2] - v)).toBeLessThanOrEqual(scales[i % 2] / 2 + 1e-9));
  });

  it('per tensor: one scale from the largest |w|', () => {
    const { q, scales } = quantizeWeights(w, 2, false);
    expect(scales).toEqual([2 / 127]);
    expect(Array.from(q)).toEqual([32, -127, -16, 64, 8, 32]);
  });

  it('an all-zero channel gets a usable scale and zero weights', () => {
    const { q, scales } = quantizeWeights(Float32Array.from([0, 1, 0, -1]), 2, true);
    expect(scales[0]).toBeGreaterThan(0);
    expect(q[0]).toBe(0);
    expect(q[2]).toBe(0);
  });
});

describe('quantizeBias', () => {
  it('uses scale input_scale * weight_scale[c] and zero point 0', () => {
    const { q, scales } = quantizeBias(Float32Array.from([0.3, -0.02]), 0.01, [0.5, 0.25]);
    expect(scales).toEqual([0.005, 0.0025]);
    expect(Array.from(q)).toEqual([60, -8]);
  });
});

// Dequantized oracle output vs tfjs float output, in units of the output
// scale. Rounding of weights and activations along the way costs a few steps;
// a wrong layout or scale costs tens to hundreds.
async function maxErrorInSteps(graph: Graph, tfModel: tf.Sequential, count: number): Promise<number> {
  const set = randomImages(count, 99);
  const floats = layerOutputs(tfModel, set, 0, count, PIXEL_QUANT);
  const expected = (await floats[floats.length - 1].data()) as Float32Array;
  tf.dispose(floats);
  const out = graph.tensors[graph.outputs[0]];
  const [scale, zp] = [out.quant!.scale[0], out.quant!.zeroPoint[0]];
  const per = expected.length / count;
  let worst = 0;
  for (let i = 0; i < count; i++) {
    const all = await oracle.runAll(graph, [image(set, i)]);
    const q = all[graph.outputs[0]]!;
    for (let k = 0; k < per; k++) worst = Math.max(worst, Math.abs(scale * (q[k] - zp) - expected[i * per + k]) / scale);
  }
  return worst;
}

const conv = (filters: number, padding: 'SAME' | 'VALID', stride: number, activation: 'RELU' | 'RELU6' | 'NONE'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize: [3, 3],
  strides: [stride, stride],
  padding,
  activation,
});

describe('a quantized layer computes what its float layer computes', () => {
  // Each model starts with a 3-channel conv so the layer under test sees
  // several input channels.
  const first = conv(3, 'SAME', 1, 'RELU');
  it.each([
    { name: 'conv 3x3 SAME ReLU -> 5 channels', layer: conv(5, 'SAME', 1, 'RELU') },
    { name: 'conv 3x3 VALID stride 2, no activation', layer: conv(4, 'VALID', 2, 'NONE') },
    { name: 'conv 3x3 SAME ReLU6', layer: conv(4, 'SAME', 1, 'RELU6') },
    {
      name: 'depthwise 3x3 SAME, multiplier 2, ReLU',
      layer: { kind: 'depthwise', depthMultiplier: 2, kernelSize: [3, 3], strides: [1, 1], padding: 'SAME', activation: 'RELU' } as LayerSpec,
    },
    { name: 'max pool 2x2', layer: { kind: 'maxpool', poolSize: [2, 2], strides: [2, 2], padding: 'VALID' } as LayerSpec },
    { name: 'average pool 3x3 stride 2', layer: { kind: 'avgpool', poolSize: [3, 3], strides: [2, 2], padding: 'VALID' } as LayerSpec },
  ])('$name', async ({ layer }) => {
    const { tfModel, floatModel } = randomModel('layer', [first, layer], 5);
    const graph = quantizeModel(floatModel, calibrate(tfModel, randomImages(40, 1), PIXEL_QUANT));
    expect(await maxErrorInSteps(graph, tfModel, 4)).toBeLessThanOrEqual(3);
  });

  it('flatten, FC with ReLU, FC, softmax', async () => {
    const layers: LayerSpec[] = [
      conv(2, 'VALID', 2, 'RELU'),
      { kind: 'flatten' },
      { kind: 'dense', units: 12, activation: 'RELU' },
      { kind: 'dense', units: 10, activation: 'NONE' },
      { kind: 'softmax' },
    ];
    const { tfModel, floatModel } = randomModel('head', layers, 8);
    const graph = quantizeModel(floatModel, calibrate(tfModel, randomImages(40, 2), PIXEL_QUANT));
    expect(graph.ops.map((o) => o.kind)).toEqual(['CONV_2D', 'RESHAPE', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'SOFTMAX']);
    expect(graph.tensors[graph.outputs[0]].quant).toEqual({ scale: [1 / 256], zeroPoint: [-128] });
    expect(await maxErrorInSteps(graph, tfModel, 4)).toBeLessThanOrEqual(3);
  });

  it('refuses calibration ranges that do not match the layers', () => {
    const { floatModel } = randomModel('short', [first], 1);
    expect(() => quantizeModel(floatModel, [])).toThrow('0 calibration ranges for 1 layers');
  });
});
