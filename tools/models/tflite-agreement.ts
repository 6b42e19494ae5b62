// Our int8 outputs against a second, independent TFLite implementation: the
// interpreter in @tensorflow/tfjs-tflite. Its int8 kernels are TFLite's
// optimized ones, not bit-exact with the reference kernels ours follow, so
// outputs may differ by 1. Two measurements:
// - per op: each op exported alone and fed the very input our engine gave
//   it, so a difference is that op's own, not one carried in from before;
// - whole model: the exported .tflite end to end; ±1 differences in the
//   logits can move a softmax output by several steps, so what counts there
//   is whether the top class agrees.
import type { LabelledImages } from '../../host/eval/datasets.ts';
import { image } from '../../host/eval/datasets.ts';
import type { Engine } from '../../host/model/engine.ts';
import type { Graph, TensorData } from '../../host/model/ir.ts';
import { writeTflite } from '../../host/model/tflite/write.ts';
import { loadTfliteInterpreter } from './tfjs-interp.ts';
import { argmax } from '../../host/eval/accuracy.ts';

export interface Difference {
  elements: number;
  /** Elements whose values differ at all, and the largest difference. */
  differing: number;
  maxAbsDiff: number;
}

export interface OpDifference extends Difference {
  op: number;
  kind: string;
}

export interface ModelAgreement extends Difference {
  images: number;
  /** Images whose top-1 class is the same. */
  argmaxAgree: number;
}

function addDifference(d: Difference, ours: TensorData, theirs: TensorData): void {
  if (ours.length !== theirs.length) throw new Error(`output of ${ours.length} values, tfjs-tflite gives ${theirs.length}`);
  for (let k = 0; k < ours.length; k++) {
    const diff = Math.abs(ours[k] - theirs[k]);
    if (diff) d.differing++;
    d.maxAbsDiff = Math.max(d.maxAbsDiff, diff);
  }
  d.elements += ours.length;
}

/** The graph of op `i` alone, reading its non-constant inputs as graph inputs. */
function singleOp(graph: Graph, i: number): Graph {
  const op = graph.ops[i];
  return { ...graph, ops: [op], inputs: op.inputs.filter((id) => id >= 0 && !graph.tensors[id].data), outputs: [...op.outputs] };
}

export async function perOpAgreement(graph: Graph, engine: Engine, set: LabelledImages): Promise<OpDifference[]> {
  const values: (TensorData | undefined)[][] = [];
  for (let i = 0; i < set.count; i++) values.push(await engine.runAll(graph, [image(set, i)]));
  const result: OpDifference[] = [];
  for (let k = 0; k < graph.ops.length; k++) {
    const g = singleOp(graph, k);
    const interp = await loadTfliteInterpreter(writeTflite(g));
    const d: OpDifference = { op: k, kind: graph.ops[k].kind, elements: 0, differing: 0, maxAbsDiff: 0 };
    try {
      for (const v of values) {
        const [theirs] = await interp.run(g.inputs.map((id) => v[id]!));
        addDifference(d, v[g.outputs[0]]!, theirs);
      }
    } finally {
      await interp.dispose();
    }
    result.push(d);
  }
  return result;
}

export async function modelAgreement(graph: Graph, tflite: Uint8Array, engine: Engine, set: LabelledImages): Promise<ModelAgreement> {
  const interp = await loadTfliteInterpreter(tflite);
  const r: ModelAgreement = { images: set.count, elements: 0, differing: 0, maxAbsDiff: 0, argmaxAgree: 0 };
  try {
    for (let i = 0; i < set.count; i++) {
      const x = image(set, i);
      const all = await engine.runAll(graph, [x]);
      const ours = all[graph.outputs[0]]!;
      const [theirs] = await interp.run([x]);
      addDifference(r, ours, theirs);
      if (argmax(ours) === argmax(theirs)) r.argmaxAgree++;
    }
  } finally {
    await interp.dispose();
  }
  return r;
}
