// The conv gradients registered for the tfjs wasm backend must match the cpu
// backend's own kernels, or training would silently learn the wrong thing.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmBackprop } from '../tools/models/wasm-backprop.ts';

/** Gradients of sum(conv(x, w)^2) with respect to x and w. */
type Shape4 = [number, number, number, number];

async function convGrads(backend: string, xShape: Shape4, wShape: Shape4, pad: 'same' | 'valid') {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not start`);
  const x = tf.randomUniform(xShape, -1, 1, 'float32', 7) as tf.Tensor4D;
  const w = tf.randomUniform(wShape, -1, 1, 'float32', 11) as tf.Tensor4D;
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad).square().sum())([x, w]);
  const out = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array };
  tf.dispose([x, w, dx, dw]);
  return out;
}

describe('conv gradients on the wasm backend', () => {
  registerWasmBackprop();
  it.each([
    { name: '3x3 SAME, 2 images 9x7x3 -> 4', x: [2, 9, 7, 3] as Shape4, w: [3, 3, 3, 4] as Shape4, pad: 'same' as const },
    { name: '3x3 VALID, 3 images 8x8x2 -> 5', x: [3, 8, 8, 2] as Shape4, w: [3, 3, 2, 5] as Shape4, pad: 'valid' as const },
    { name: '5x5 SAME, 1 image 6x6x1 -> 2', x: [1, 6, 6, 1] as Shape4, w: [5, 5, 1, 2] as Shape4, pad: 'same' as const },
    { name: '2x4 SAME (uneven padding), 2 images 5x6x3 -> 3', x: [2, 5, 6, 3] as Shape4, w: [2, 4, 3, 3] as Shape4, pad: 'same' as const },
  ])('$name: input and filter gradients equal the cpu backend', async ({ x, w, pad }) => {
    const cpu = await convGrads('cpu', x, w, pad);
    const wasm = await convGrads('wasm', x, w, pad);
    for (const key of ['dx', 'dw'] as const) {
      expect(wasm[key].length).toBe(cpu[key].length);
      for (let i = 0; i < cpu[key].length; i++) expect(wasm[key][i]).toBeCloseTo(cpu[key][i], 3);
    }
  });
});
