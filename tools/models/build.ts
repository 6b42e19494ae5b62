// `npm run models`: trains the bundled models with tfjs (wasm backend),
// quantizes them to int8, measures float and int8 accuracy on the test
// split, and writes everything under models/:
//   models/<name>.msb       int8 graph, microsplit bundle
//   models/<name>.tflite    the same graph as a TFLite flatbuffer
//   models/float/<name>.msf trained float weights (when under 1 MB; larger
//                           ones go to build/float/, which is not committed)
//   models/data/<dataset>-test-500.bin  labelled subsets for the demo/eval
//   models/manifest.json    the figures below, one record per model
//   models/README.md        generated from the manifest
// Options: --only NAME (one model; the others' manifest records are kept),
// --int8-limit N (int8 accuracy on the first N test images instead of all),
// --engine wasm|oracle (what runs the int8 model for accuracy; default wasm,
// bit-exact with the oracle and several times faster),
// --reuse-float (skip training: re-quantize the float weights written by an
// earlier run).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBundle } from '../../host/model/bundle.ts';
import type { DatasetName, LabelledImages, Split } from '../../host/eval/datasets.ts';
import { firstN, loadDataset, PIXEL_QUANT, sliceImages, writeSubset } from '../../host/eval/datasets.ts';
import type { Engine } from '../../host/model/engine.ts';
import { oracle } from '../../host/model/oracle.ts';
import { createWasmEngine } from '../../host/run/wasm-engine.ts';
import type { FloatModel } from './quantize.ts';
import { quantizeModel } from './quantize.ts';
import { writeTflite } from '../../host/model/tflite/write.ts';
import { accuracyOf, agreement, classify } from '../../host/eval/accuracy.ts';
import { CALIBRATION_COUNT, HOLDOUT, RECIPES } from './architectures.ts';
import { readFloatModel, writeFloatModel } from '../../host/eval/float-file.ts';
import { graphSizes } from './sizes.ts';
import type { ModelRecord } from './manifest.ts';
import { MANIFEST_PATH, MODELS_DIR, readManifest, writeManifest } from './manifest.ts';
import { buildTfModel, fromFloatModel, predictFloat } from '../../host/eval/tfjs-model.ts';
import { calibrate, toFloatModel } from './calibrate.ts';
import { train } from './train.ts';
import { useWasmBackend } from './wasm-backprop.ts';

const MAX_FILE = 1024 * 1024;
const SUBSET = 500;
const BATCH = 128;
const LEARNING_RATE = 1e-3;
const SEED = 20261123;

const { values: opts } = parseArgs({
  options: { only: { type: 'string' }, 'int8-limit': { type: 'string' }, engine: { type: 'string', default: 'wasm' }, 'reuse-float': { type: 'boolean' } },
});
const int8Limit = opts['int8-limit'] ? Number(opts['int8-limit']) : Infinity;
if (!(int8Limit > 0)) throw new Error(`--int8-limit must be a positive number, got ${opts['int8-limit']}`);
if (opts.engine !== 'wasm' && opts.engine !== 'oracle') throw new Error(`--engine must be wasm or oracle, got ${opts.engine}`);
const engine: Engine = opts.engine === 'wasm' ? await createWasmEngine() : oracle;
const recipes = RECIPES.filter((r) => !opts.only || r.name === opts.only);
if (recipes.length === 0) throw new Error(`unknown model ${opts.only}`);

const log = (line: string) => console.log(`[models] ${line}`);
const cache = new Map<string, LabelledImages>();
function data(name: DatasetName, split: Split): LabelledImages {
  const key = `${name}/${split}`;
  if (!cache.has(key)) cache.set(key, loadDataset(name, split));
  return cache.get(key)!;
}

await useWasmBackend();
const BIG_FLOAT_DIR = join(MODELS_DIR, '..', 'build', 'float');
for (const dir of [join(MODELS_DIR, 'float'), join(MODELS_DIR, 'data'), BIG_FLOAT_DIR]) mkdirSync(dir, { recursive: true });
const floatPaths = (name: string) => [join(MODELS_DIR, 'float', `${name}.msf`), join(BIG_FLOAT_DIR, `${name}.msf`)];

const records = new Map<string, ModelRecord>(existsSync(MANIFEST_PATH) ? readManifest().map((r) => [r.name, r]) : []);
/** Written after every model, so an interrupted run keeps what it finished. */
const saveManifest = () => writeManifest(RECIPES.map((r) => records.get(r.name)).filter((r): r is ModelRecord => r !== undefined));

for (const r of recipes) {
  const t0 = Date.now();
  const trainSet = data(r.dataset, 'train');
  const testSet = data(r.dataset, 'test');
  const trainable = trainSet.count - HOLDOUT;
  if (r.trainCount > trainable) throw new Error(`${r.name}: trainCount ${r.trainCount} > ${trainable} trainable images`);
  const previous = floatPaths(r.name).find(existsSync);
  let floatModel: FloatModel;
  let trainSeconds: number;
  if (opts['reuse-float'] && previous) {
    log(`${r.name}: reusing ${previous}`);
    floatModel = readFloatModel(readFileSync(previous), previous);
    trainSeconds = records.get(r.name)?.training.seconds ?? NaN;
  } else {
    log(`${r.name}: training on ${r.trainCount} ${r.dataset} images, ${r.epochs} epochs`);
    const trained = buildTfModel([28, 28, 1], r.layers, SEED);
    await train(trained, trainSet, { count: r.trainCount, epochs: r.epochs, batchSize: BATCH, learningRate: LEARNING_RATE, seed: SEED, inputQuant: PIXEL_QUANT, log: (l) => log(`${r.name}: ${l}`) });
    trainSeconds = (Date.now() - t0) / 1000;
    floatModel = toFloatModel(trained, r.layers, r.name, PIXEL_QUANT);
  }
  const tfModel = fromFloatModel(floatModel);
  const calib = sliceImages(trainSet, trainable, CALIBRATION_COUNT);
  const graph = quantizeModel(floatModel, calibrate(tfModel, calib, PIXEL_QUANT));

  const bundle = writeBundle(graph);
  const tflite = writeTflite(graph);
  const floatFile = writeFloatModel(floatModel);
  for (const [file, size] of [['msb', bundle.length], ['tflite', tflite.length]] as const)
    if (size >= MAX_FILE) throw new Error(`${r.name}.${file} is ${size} bytes, over the 1 MB limit for the repository`);
  writeFileSync(join(MODELS_DIR, `${r.name}.msb`), bundle);
  writeFileSync(join(MODELS_DIR, `${r.name}.tflite`), tflite);
  const floatBundled = floatFile.length < MAX_FILE;
  writeFileSync(floatPaths(r.name)[floatBundled ? 0 : 1], floatFile);

  const floatPred = predictFloat(tfModel, testSet, PIXEL_QUANT);
  const evalSet = firstN(testSet, int8Limit);
  log(`${r.name}: int8 accuracy on ${evalSet.count} test images (${engine.name})`);
  const t1 = Date.now();
  const int8 = await classify(engine, graph, evalSet);
  const msPerImage = (Date.now() - t1) / evalSet.count;

  const record: ModelRecord = {
    name: r.name,
    dataset: r.dataset,
    summary: r.summary,
    ...graphSizes(graph),
    files: { msb: bundle.length, tflite: tflite.length, float: floatBundled ? floatFile.length : null },
    training: { images: r.trainCount, epochs: r.epochs, batchSize: BATCH, learningRate: LEARNING_RATE, seconds: Math.round(trainSeconds) },
    calibration: { images: CALIBRATION_COUNT, from: `train split images ${trainable}..${trainable + CALIBRATION_COUNT - 1} (held out from training)` },
    accuracy: {
      testImages: testSet.count,
      float: accuracyOf(floatPred, testSet.labels),
      int8Images: evalSet.count,
      int8: int8.correct / int8.total,
      floatOnInt8Images: accuracyOf(floatPred.subarray(0, evalSet.count), evalSet.labels),
      agreement: agreement(int8.predictions, floatPred.subarray(0, evalSet.count)),
    },
    int8Engine: engine.name,
    msPerImage: Math.round(msPerImage * 100) / 100,
  };
  records.set(r.name, record);
  saveManifest();
  writeFileSync(join(MODELS_DIR, 'data', `${r.dataset}-test-${SUBSET}.bin`), writeSubset(firstN(testSet, SUBSET)));
  const a = record.accuracy;
  log(`${r.name}: float ${(100 * a.float).toFixed(2)}%, int8 ${(100 * a.int8).toFixed(2)}% (${a.int8Images} images), agreement ${(100 * a.agreement).toFixed(2)}%, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

log('done');
