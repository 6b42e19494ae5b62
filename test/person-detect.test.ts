// TFLite Micro's person_detect, imported from its .tflite, run by the oracle
// and by the AS kernels (wasm), compared bit for bit with what TFLM's
// reference kernels computed for every tensor (test/fixtures/person_detect).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../host/model/engine.ts';
import { readInput } from '../host/model/inputs.ts';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { oracle } from '../host/model/oracle.ts';
import { readTflite } from '../host/model/tflite/read.ts';
import { createWasmEngine } from '../host/run/wasm-engine.ts';

const path = (f: string) => fileURLToPath(new URL(`./fixtures/person_detect/${f}`, import.meta.url));
const bytes = (f: string) => readFileSync(path(f));

interface TflmTensor {
  tensor_index: number;
  name: string;
  shape: number[];
  offset: number;
  bytes: number;
}

const graph: Graph = readTflite(bytes('person_detect.tflite'));
const tflm = JSON.parse(readFileSync(path('person_detect_person_tensors.index.json'), 'utf8')) as { tensors: TflmTensor[] };
const tflmBytes = bytes('person_detect_person_tensors.bin');
const personInput = new Int8Array(bytes('person_input_int8.bin'));
const noPersonInput = new Int8Array(bytes('no_person_input_int8.bin'));

const engines: Record<string, () => Promise<Engine>> = {
  oracle: async () => oracle,
  wasm: () => createWasmEngine(),
};

describe.each(Object.keys(engines))('person_detect on the %s engine', (name) => {
  let engine: Engine;
  let person: (TensorData | undefined)[];
  beforeAll(async () => {
    engine = await engines[name]();
    person = await engine.runAll(graph, [personInput]);
  });

  it('gives exactly [-113, 113] on person.bmp', () => {
    expect(Array.from(person[graph.outputs[0]]!)).toEqual([-113, 113]);
  });

  it('matches all 32 intermediate tensors TFLM computed, by index and name', () => {
    expect(tflm.tensors).toHaveLength(32);
    const mismatched = tflm.tensors.filter((t) => {
      const ours = person[t.tensor_index];
      const theirs = new Int8Array(tflmBytes.buffer, tflmBytes.byteOffset + t.offset, t.bytes);
      const tensor = graph.tensors[t.tensor_index];
      return tensor.name !== t.name || tensor.shape.join() !== t.shape.join() || !ours || ours.length !== theirs.length || ours.some((v, i) => v !== theirs[i]);
    });
    expect(mismatched.map((t) => t.name)).toEqual([]);
  });

  it('ranks notperson first on no_person.bmp', async () => {
    const out = (await engine.runAll(graph, [noPersonInput]))[graph.outputs[0]]!;
    expect(out[0]).toBeGreaterThan(out[1]);
  });
});

describe('person_detect images', () => {
  it.each(['person', 'no_person'])('%s.bmp read as raw pixel bytes is the input TFLM was given', (image) => {
    const input = graph.tensors[graph.inputs[0]];
    expect(readInput(path(`${image}.bmp`), input)).toEqual(new Int8Array(bytes(`${image}_input_int8.bin`)));
  });
});
