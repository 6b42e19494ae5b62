// The three bundled models: layer specs and training settings. Sizes are
// chosen against the demo testbed's device budgets (64..96 KiB each); the
// README in models/ gives the resulting bytes.
import type { DatasetName } from '../../host/eval/datasets.ts';
import type { LayerSpec } from './quantize.ts';

export interface ModelRecipe {
  name: string;
  dataset: DatasetName;
  summary: string;
  layers: LayerSpec[];
  /** Training images taken from the front of the train split (the last
   * HOLDOUT images are never trained on: they calibrate and validate). */
  trainCount: number;
  epochs: number;
}

/** Train-split images held out for calibration and validation. */
export const HOLDOUT = 5000;
/** Of those, how many calibrate the activation ranges. */
export const CALIBRATION_COUNT = 1000;

const conv = (filters: number, activation: 'RELU' | 'NONE' = 'RELU'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize: [3, 3],
  strides: [1, 1],
  padding: 'SAME',
  activation,
});
const pool: LayerSpec = { kind: 'maxpool', poolSize: [2, 2], strides: [2, 2], padding: 'VALID' };
const dense = (units: number, activation: 'RELU' | 'NONE'): LayerSpec => ({ kind: 'dense', units, activation });
const head: LayerSpec[] = [{ kind: 'softmax' }];

export const RECIPES: ModelRecipe[] = [
  {
    name: 'mnist-s',
    dataset: 'mnist',
    summary: 'conv3x3x8, pool, conv3x3x16, pool, FC 784->32, FC 32->10, softmax: fits one 64 KiB device',
    layers: [conv(8), pool, conv(16), pool, { kind: 'flatten' }, dense(32, 'RELU'), dense(10, 'NONE'), ...head],
    trainCount: 55000,
    epochs: 3,
  },
  {
    name: 'mnist-l',
    dataset: 'mnist',
    summary: 'conv3x3x16, conv3x3x32, pool, conv3x3x64, pool, FC 3136->128, FC 128->10, softmax: runs only distributed',
    layers: [conv(16), conv(32), pool, conv(64), pool, { kind: 'flatten' }, dense(128, 'RELU'), dense(10, 'NONE'), ...head],
    trainCount: 20000,
    epochs: 2,
  },
  {
    name: 'fashion',
    dataset: 'fashion',
    summary: 'conv3x3x16, pool, conv3x3x32, pool, FC 1568->64, FC 64->10, softmax',
    layers: [conv(16), pool, conv(32), pool, { kind: 'flatten' }, dense(64, 'RELU'), dense(10, 'NONE'), ...head],
    trainCount: 40000,
    epochs: 2,
  },
];

export function recipe(name: string): ModelRecipe {
  const r = RECIPES.find((m) => m.name === name);
  if (!r) throw new Error(`unknown model ${name} (expected ${RECIPES.map((m) => m.name).join(', ')})`);
  return r;
}
