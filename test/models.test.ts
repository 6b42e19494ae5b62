// The bundled models in models/: their files, the memory budgets they were
// designed for, agreement between their .msb and .tflite forms and between
// the engines, and the accuracy figures `npm run models` recorded.
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../host/model/bundle.ts';
import { firstN, image, readSubset } from '../host/eval/datasets.ts';
import { runGraph } from '../host/model/engine.ts';
import type { Graph } from '../host/model/ir.ts';
import { oracle } from '../host/model/oracle.ts';
import { readTflite } from '../host/model/tflite/read.ts';
import { createWasmEngine } from '../host/run/wasm-engine.ts';
import { checkClassifier } from '../host/eval/accuracy.ts';
import { recipe } from '../tools/models/architectures.ts';
import { readManifest } from '../tools/models/manifest.ts';
import { graphSizes } from '../tools/models/sizes.ts';

const KiB = 1024;
const MB = 1024 * 1024;
const AGENT_OVERHEAD = 8 * KiB;
const MODELS = [
  { name: 'mnist-s', data: 'mnist', images: 20 },
  { name: 'mnist-l', data: 'mnist', images: 4 },
  { name: 'fashion', data: 'fashion', images: 10 },
];
const load = (name: string): Graph => readBundle(readFileSync(`models/${name}.msb`), name);
const subset = (data: string) => readSubset(readFileSync(`models/data/${data}-test-500.bin`));

describe.each(MODELS)('bundled model $name', ({ name, data, images }) => {
  it('has .msb and .tflite files under 1 MB and is an int8 28x28 -> 10 classifier', () => {
    for (const ext of ['msb', 'tflite']) expect(statSync(`models/${name}.${ext}`).size).toBeLessThan(MB);
    const g = load(name);
    checkClassifier(g);
    expect(g.tensors[g.inputs[0]].shape).toEqual([1, 28, 28, 1]);
    expect(g.tensors.filter((t) => !t.data).every((t) => t.dtype === 'int8')).toBe(true);
  });

  it('its .tflite gives the same output bytes as its .msb (oracle)', async () => {
    const fromMsb = load(name);
    const fromTflite = readTflite(readFileSync(`models/${name}.tflite`));
    const set = firstN(subset(data), images);
    for (let i = 0; i < set.count; i++) {
      const [a] = await runGraph(oracle, fromMsb, [image(set, i)]);
      const [b] = await runGraph(oracle, fromTflite, [image(set, i)]);
      expect(b).toEqual(a);
    }
  });

  it('the wasm kernels give the oracle output bytes', async () => {
    const g = load(name);
    const wasm = await createWasmEngine();
    const set = firstN(subset(data), images);
    for (let i = 0; i < set.count; i++) {
      const [a] = await runGraph(oracle, g, [image(set, i)]);
      const [b] = await runGraph(wasm, g, [image(set, i)]);
      expect(b).toEqual(a);
    }
  });

  it('was recorded with int8 accuracy within 1 point of float on the same test images', () => {
    const r = readManifest().find((m) => m.name === name)!;
    expect(r.accuracy.floatOnInt8Images - r.accuracy.int8).toBeLessThanOrEqual(0.01);
    expect(r.calibration.from).toContain('held out from training');
    expect(r.dataset).toBe(recipe(name).dataset);
  });
});

describe('model sizes against the device budgets', () => {
  it('mnist-s fits one 64 KiB device with the agent overhead, with room to spare', () => {
    const s = graphSizes(load('mnist-s'));
    expect(s.weightBytes + s.peakActivationBytes + AGENT_OVERHEAD).toBeLessThan(56 * KiB);
  });

  it('mnist-l needs at least four of the largest (96 KiB) demo devices', () => {
    const s = graphSizes(load('mnist-l'));
    expect(s.weightBytes + s.peakActivationBytes).toBeGreaterThanOrEqual(4 * 96 * KiB);
  });

  it('mnist-l has several 3x3 convs in a row (for fused tiles) and an FC', () => {
    const g = load('mnist-l');
    const convs = g.ops.filter((o) => o.kind === 'CONV_2D').map((o) => g.tensors[o.inputs[1]].shape.slice(1, 3));
    expect(convs.length).toBeGreaterThanOrEqual(2);
    expect(convs.every(([h, w]) => h === 3 && w === 3)).toBe(true);
    expect(g.ops.slice(0, 2).map((o) => o.kind)).toEqual(['CONV_2D', 'CONV_2D']);
    expect(g.ops.some((o) => o.kind === 'FULLY_CONNECTED')).toBe(true);
  });
});
