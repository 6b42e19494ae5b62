// Top-1 accuracy of an int8 image classifier on a labelled set, one sample
// at a time through any Engine (the oracle, the wasm kernels, or later a
// testbed of devices), so every engine is measured by the same loop.
import type { LabelledImages } from './datasets.ts';
import { image, IMAGE_SIZE, NUM_CLASSES } from './datasets.ts';
import type { Engine } from '../model/engine.ts';
import { runGraph } from '../model/engine.ts';
import type { Graph, TensorData } from '../model/ir.ts';
import { numElements } from '../model/ir.ts';

export interface Classified {
  /** Top-1 class per sample. */
  predictions: Uint8Array;
  correct: number;
  total: number;
}

/** Index of the largest value (the first one on ties, as tfjs's argMax). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Checks that `graph` takes one int8 28x28 image and yields 10 scores. */
export function checkClassifier(graph: Graph): void {
  const name = graph.name ?? 'model';
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1)
    throw new Error(`${name}: an image classifier needs one input and one output, it has ${graph.inputs.length} and ${graph.outputs.length}`);
  const x = graph.tensors[graph.inputs[0]];
  if (x.dtype !== 'int8' || numElements(x.shape) !== IMAGE_SIZE)
    throw new Error(`${name}: input is ${x.dtype} [${x.shape}], expected int8 with ${IMAGE_SIZE} values (a 28x28 image)`);
  const y = graph.tensors[graph.outputs[0]];
  if (numElements(y.shape) !== NUM_CLASSES) throw new Error(`${name}: output has shape [${y.shape}], expected ${NUM_CLASSES} class scores`);
}

export async function classify(
  engine: Engine,
  graph: Graph,
  set: LabelledImages,
  onProgress?: (done: number, total: number) => void,
): Promise<Classified> {
  checkClassifier(graph);
  const predictions = new Uint8Array(set.count);
  let correct = 0;
  for (let i = 0; i < set.count; i++) {
    const [out] = await runGraph(engine, graph, [image(set, i) as TensorData]);
    predictions[i] = argmax(out);
    if (predictions[i] === set.labels[i]) correct++;
    onProgress?.(i + 1, set.count);
  }
  return { predictions, correct, total: set.count };
}

/** Fraction of positions where two prediction vectors agree. */
export function agreement(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} predictions with ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length ? same / a.length : 0;
}

export function accuracyOf(predictions: Uint8Array, labels: Uint8Array): number {
  return agreement(predictions, labels.subarray(0, predictions.length));
}
