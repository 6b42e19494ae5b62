// The quantizer on the real trained models: the bundled float weights,
// re-quantized with calibration on held-out train images, give back the
// bundled int8 graph, and the int8 model picks the float model's class on
// at least 98% of a fixed subset of the test split (its first 1,000 images).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../host/model/bundle.ts';
import type { DatasetName } from '../host/eval/datasets.ts';
import { firstN, loadDataset, sliceImages } from '../host/eval/datasets.ts';
import type { Engine } from '../host/model/engine.ts';
import { oracle } from '../host/model/oracle.ts';
import { quantizeModel } from '../tools/models/quantize.ts';
import { createWasmEngine } from '../host/run/wasm-engine.ts';
import { agreement, classify } from '../host/eval/accuracy.ts';
import { CALIBRATION_COUNT, HOLDOUT } from '../tools/models/architectures.ts';
import { readFloatModel } from '../host/eval/float-file.ts';
import { fromFloatModel, predictFloat } from '../host/eval/tfjs-model.ts';
import { calibrate } from '../tools/models/calibrate.ts';
import { useWasmBackend } from '../tools/models/wasm-backprop.ts';

const SUBSET = 1000;
const floatModel = (name: string) => readFloatModel(readFileSync(`models/float/${name}.msf`), name);

describe('re-quantizing the bundled float weights', () => {
  it('mnist-s: gives the bundled int8 weights, and activation scales within 1e-5', async () => {
    await useWasmBackend();
    const fm = floatModel('mnist-s');
    const train = loadDataset('mnist', 'train');
    const calib = sliceImages(train, train.count - HOLDOUT, CALIBRATION_COUNT);
    const fresh = quantizeModel(fm, calibrate(fromFloatModel(fm), calib, fm.inputQuant));
    const bundled = readBundle(readFileSync('models/mnist-s.msb'));
    expect(fresh.tensors.length).toBe(bundled.tensors.length);
    fresh.tensors.forEach((t, i) => {
      const b = bundled.tensors[i];
      expect(t.shape).toEqual(b.shape);
      if (t.dtype === 'int8' && t.data) expect(t.data).toEqual(b.data);
      else if (t.quant && !t.data) t.quant.scale.forEach((s, k) => expect(Math.abs(s - b.quant!.scale[k]) / s).toBeLessThan(1e-5));
    });
  }, 180_000);
});

// The oracle where it is fast enough; the wasm kernels (bit-exact with it,
// see models.test.ts) for the larger fashion model.
describe.each([
  { name: 'mnist-s', dataset: 'mnist' as DatasetName, engine: 'oracle' },
  { name: 'fashion', dataset: 'fashion' as DatasetName, engine: 'wasm' },
])('$name: float vs int8 on the first 1,000 test images ($engine)', ({ name, dataset, engine }) => {
  it('top-1 agrees on at least 98%', async () => {
    await useWasmBackend();
    const run: Engine = engine === 'wasm' ? await createWasmEngine() : oracle;
    const set = firstN(loadDataset(dataset, 'test'), SUBSET);
    const fm = floatModel(name);
    const floatPred = predictFloat(fromFloatModel(fm), set, fm.inputQuant);
    const int8 = await classify(run, readBundle(readFileSync(`models/${name}.msb`)), set);
    expect(agreement(floatPred, int8.predictions)).toBeGreaterThanOrEqual(0.98);
  }, 300_000);
});
