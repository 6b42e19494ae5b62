// Export: graph -> .tflite -> graph keeps everything (constants, quantization,
// options), and the files run in a second, independent TFLite implementation
// (tfjs-tflite's interpreter) with outputs within ±1 of microsplit's oracle.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runGraph } from '../host/model/engine.ts';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { oracle } from '../host/model/oracle.ts';
import { readTflite } from '../host/model/tflite/read.ts';
import { startTflite } from '../tools/models/tfjs-interp.ts';
import { writeTflite } from '../host/model/tflite/write.ts';
import { SMALL_MODELS } from './fixtures/small-model-cases.ts';
import { randomInputs } from './fixtures/small-models.ts';

const fixture = (f: string) => readFileSync(new URL(`./fixtures/person_detect/${f}`, import.meta.url));

/** The graph as a .tflite holds it: scales and softmax beta are float32 in the file. */
function asFloat32(g: Graph): Graph {
  return {
    ...g,
    tensors: g.tensors.map((t) => (t.quant ? { ...t, quant: { ...t.quant, scale: t.quant.scale.map(Math.fround) } } : t)),
    ops: g.ops.map((op) => (op.kind === 'SOFTMAX' ? { ...op, beta: Math.fround(op.beta) } : op)),
  };
}

/** Largest difference in quantization steps; float outputs are measured in steps of the tensor they were dequantized from. */
function maxStepDifference(a: TensorData, b: TensorData, step: number): number {
  expect(b.length).toBe(a.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]) / step);
  return max;
}

function outputStep(g: Graph, k: number): number {
  const id = g.outputs[k];
  if (g.tensors[id].dtype !== 'float32') return 1;
  const producer = g.ops.find((op) => op.outputs.includes(id))!;
  return g.tensors[producer.inputs[0]].quant!.scale[0];
}

describe('write -> read round trip', () => {
  it.each(SMALL_MODELS)('%s: same graph (scales as float32), same bytes when written again', (_, make) => {
    const graph = make();
    const bytes = writeTflite(graph);
    const back = readTflite(bytes);
    expect(back).toEqual(asFloat32(graph));
    expect(writeTflite(back)).toEqual(bytes);
  });

  it('person_detect exported: every constant starts on a 16-byte boundary of the file, as TFLite Micro reads weights in place', () => {
    const graph = readTflite(fixture('person_detect.tflite'));
    const file = Buffer.from(writeTflite(graph));
    const large = graph.tensors.filter((t) => t.data && t.data.byteLength >= 64); // long enough to occur once in the file
    const offsets = large.map((t) => file.indexOf(Buffer.from(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength)));
    expect(large.length).toBeGreaterThan(50);
    expect(offsets.filter((at) => at < 0 || at % 16 !== 0)).toEqual([]);
  });

  it('a graph without a name reads back without one', () => {
    const { name: _, ...unnamed } = SMALL_MODELS[0][1]();
    expect(readTflite(writeTflite(unnamed)).name).toBeUndefined();
  });

  it('person_detect: the imported graph writes and reads back identical, constants byte for byte', () => {
    const graph = readTflite(fixture('person_detect.tflite'));
    const bytes = writeTflite(graph);
    const back = readTflite(bytes);
    // isDeepStrictEqual compares typed arrays element-wise, and fast on 219 KB of weights.
    expect(isDeepStrictEqual(back, graph)).toBe(true);
    expect(Buffer.compare(writeTflite(back), bytes)).toBe(0);
  });
});

describe('exported files in tfjs-tflite', () => {
  const tflite = startTflite();
  afterAll(() => tflite.close());

  it.each(SMALL_MODELS)('%s: outputs within ±1 of the oracle', async (_, make) => {
    const bytes = writeTflite(make());
    const graph = readTflite(bytes);
    const inputs = randomInputs(graph);
    const ours = await runGraph(oracle, graph, inputs);
    const interp = await tflite.load(bytes);
    try {
      expect(interp.outputs.map((t) => t.shape)).toEqual(graph.outputs.map((id) => graph.tensors[id].shape));
      const theirs = await interp.run(inputs);
      ours.forEach((o, k) => {
        expect(new Set(o).size, 'outputs spread, so agreement means something').toBeGreaterThan(4);
        expect(maxStepDifference(o, theirs[k], outputStep(graph, k))).toBeLessThanOrEqual(1 + 1e-6);
      });
    } finally {
      await interp.dispose();
    }
  });

  it('person_detect as exported: [-113, 113] on person, notperson wins on no_person', async () => {
    const interp = await tflite.load(writeTflite(readTflite(fixture('person_detect.tflite'))));
    try {
      const [person] = await interp.run([new Int8Array(fixture('person_input_int8.bin'))]);
      const [noPerson] = await interp.run([new Int8Array(fixture('no_person_input_int8.bin'))]);
      expect(maxStepDifference(person, Int8Array.from([-113, 113]), 1)).toBeLessThanOrEqual(1);
      expect(noPerson[0]).toBeGreaterThan(noPerson[1]);
    } finally {
      await interp.dispose();
    }
  });

  it('refuses what full TFLite refuses, with its reason: the original person_detect file has a bias quantized along dimension 3', async () => {
    await expect(tflite.load(fixture('person_detect.tflite'))).rejects.toThrow(/quantized_dimension must be in range/);
  });

  it('each of person_detect`s 31 ops, exported alone and fed TFLM`s input to it, is within ±1 of TFLM`s output', async () => {
    const graph = readTflite(fixture('person_detect.tflite'));
    const index = JSON.parse(fixture('person_detect_person_tensors.index.json').toString()) as { tensors: { tensor_index: number; offset: number; bytes: number }[] };
    const all = fixture('person_detect_person_tensors.bin');
    const tflm = new Map<number, Int8Array>(index.tensors.map((t) => [t.tensor_index, new Int8Array(all.buffer, all.byteOffset + t.offset, t.bytes)]));
    tflm.set(graph.inputs[0], new Int8Array(fixture('person_input_int8.bin')));
    const worst: number[] = [];
    for (const op of graph.ops) {
      const interp = await tflite.load(writeTflite({ ...graph, ops: [op], inputs: [op.inputs[0]], outputs: [op.outputs[0]] }));
      const [out] = await interp.run([tflm.get(op.inputs[0])!]);
      await interp.dispose();
      worst.push(maxStepDifference(tflm.get(op.outputs[0])!, out, 1));
    }
    expect(worst).toHaveLength(31);
    expect(Math.max(...worst)).toBeLessThanOrEqual(1);
  });
});
