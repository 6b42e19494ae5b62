// Mini-batch training of a tfjs model on int8-ready images, with a seeded
// shuffle so that `npm run models` retrains the same way every time.
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../../host/eval/datasets.ts';
import { NUM_CLASSES } from '../../host/eval/datasets.ts';
import type { FloatModel } from './quantize.ts';
import { floatBatch } from '../../host/eval/tfjs-model.ts';
import { seededRandom } from '../../host/random.ts';

export interface TrainOptions {
  /** Images [0, count) of `set` are trained on. */
  count: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  inputQuant: FloatModel['inputQuant'];
  log: (line: string) => void;
}

function shuffled(n: number, rand: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/** The images `idx` gathered into a new set (to build one batch). */
function gather(set: LabelledImages, idx: Int32Array): LabelledImages {
  const size = set.pixels.length / set.count;
  const pixels = new Int8Array(idx.length * size);
  const labels = new Uint8Array(idx.length);
  idx.forEach((src, k) => {
    pixels.set(set.pixels.subarray(src * size, (src + 1) * size), k * size);
    labels[k] = set.labels[src];
  });
  return { count: idx.length, pixels, labels };
}

export async function train(model: tf.Sequential, set: LabelledImages, o: TrainOptions): Promise<void> {
  if (o.count > set.count) throw new Error(`asked to train on ${o.count} images, the set has ${set.count}`);
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const rand = seededRandom(o.seed);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = shuffled(o.count, rand);
    const t0 = Date.now();
    let loss = 0;
    let acc = 0;
    let batches = 0;
    for (let from = 0; from + o.batchSize <= o.count; from += o.batchSize) {
      const batch = gather(set, order.subarray(from, from + o.batchSize));
      const x = floatBatch(batch, 0, batch.count, o.inputQuant);
      const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), NUM_CLASSES);
      const [l, a] = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      loss += l;
      acc += a;
      batches++;
    }
    o.log(`epoch ${epoch + 1}/${o.epochs}: loss ${(loss / batches).toFixed(4)}, train accuracy ${((100 * acc) / batches).toFixed(2)}%, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
