// Our int8 outputs against a second, independent TFLite implementation: the
// interpreter in @tensorflow/tfjs-tflite running the exported .tflite. Its
// int8 kernels are TFLite's optimized ones, so ±1 differences are allowed;
// the figures are how many elements differ, by how much, and how often the
// top class agrees.
import type { LabelledImages } from '../../host/model/datasets.ts';
import { image } from '../../host/model/datasets.ts';
import type { Engine } from '../../host/model/engine.ts';
import { runGraph } from '../../host/model/engine.ts';
import type { Graph } from '../../host/model/ir.ts';
import { loadTfliteInterpreter } from '../../host/model/tflite/tfjs-interp.ts';
import { argmax } from './accuracy.ts';

export interface TfliteAgreement {
  images: number;
  elements: number;
  /** Elements whose values differ at all, and the largest difference. */
  differing: number;
  maxAbsDiff: number;
  /** Images whose top-1 class is the same. */
  argmaxAgree: number;
}

export async function tfliteAgreement(graph: Graph, tflite: Uint8Array, engine: Engine, set: LabelledImages): Promise<TfliteAgreement> {
  const interp = await loadTfliteInterpreter(tflite);
  const r: TfliteAgreement = { images: set.count, elements: 0, differing: 0, maxAbsDiff: 0, argmaxAgree: 0 };
  try {
    for (let i = 0; i < set.count; i++) {
      const x = image(set, i);
      const [ours] = await runGraph(engine, graph, [x]);
      const [theirs] = await interp.run([x]);
      if (ours.length !== theirs.length) throw new Error(`output of ${ours.length} values, tfjs-tflite gives ${theirs.length}`);
      for (let k = 0; k < ours.length; k++) {
        const d = Math.abs(ours[k] - theirs[k]);
        if (d) r.differing++;
        r.maxAbsDiff = Math.max(r.maxAbsDiff, d);
      }
      r.elements += ours.length;
      if (argmax(ours) === argmax(theirs)) r.argmaxAgree++;
    }
  } finally {
    await interp.dispose();
  }
  return r;
}
