// The exported .tflite files against a second, independent TFLite: the
// interpreter in @tensorflow/tfjs-tflite (see tools/models/tflite-agreement.ts).
// On a subset of each test split: every op, fed the same input, is within ±1
// per element, and the whole model picks the same top class on >= 99% of the
// images. The whole splits: tools/models/compare-tflite.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../host/model/bundle.ts';
import { firstN, readSubset } from '../host/eval/datasets.ts';
import { createWasmEngine } from '../host/run/wasm-engine.ts';
import { modelAgreement, perOpAgreement } from '../tools/models/tflite-agreement.ts';

// The wasm kernels stand in for the oracle (bit-exact with it, models.test.ts)
// because the oracle takes about half a second per mnist-l image.
describe.each([
  { name: 'mnist-s', data: 'mnist', images: 200, perOp: 30 },
  { name: 'mnist-l', data: 'mnist', images: 100, perOp: 10 },
  { name: 'fashion', data: 'fashion', images: 200, perOp: 30 },
])('$name in tfjs-tflite vs our kernels', ({ name, data, images, perOp }) => {
  const set = () => firstN(readSubset(readFileSync(`models/data/${data}-test-500.bin`)), images);
  const graph = () => readBundle(readFileSync(`models/${name}.msb`));

  it(`each op within ±1 on the first ${perOp} test images`, async () => {
    const ops = await perOpAgreement(graph(), await createWasmEngine(), firstN(set(), perOp));
    expect(ops.length).toBe(graph().ops.length);
    const over = ops.filter((d) => d.maxAbsDiff > 1).map((d) => `op ${d.op} ${d.kind}: max |diff| ${d.maxAbsDiff}`);
    expect(over).toEqual([]);
  }, 180_000);

  it(`the whole .tflite picks the same class on >= 99% of the first ${images} test images`, async () => {
    const a = await modelAgreement(graph(), readFileSync(`models/${name}.tflite`), await createWasmEngine(), set());
    expect(a.images).toBe(images);
    expect(a.argmaxAgree / a.images).toBeGreaterThanOrEqual(0.99);
  }, 180_000);
});
