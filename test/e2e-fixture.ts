// What the end-to-end and fault-injection tests share: their models and
// inputs, the oracle's answers to compare against, and a check that a
// testbed left no process behind.
import { readFileSync } from 'node:fs';
import { image, readSubset } from '../host/eval/datasets.ts';
import { runGraph } from '../host/model/engine.ts';
import { readInput } from '../host/model/inputs.ts';
import { numElements, type Graph, type TensorData } from '../host/model/ir.ts';
import { oracle } from '../host/model/oracle.ts';
import { seededRandom } from '../host/random.ts';
import type { Executor } from '../host/run/execute.ts';
import { deployModel, type OpenTestbed } from '../host/run/session.ts';
import { loadModel } from '../host/model/load.ts';
import { liveChildren } from './processes.ts';

export const PERSON_DETECT = 'test/fixtures/person_detect/person_detect.tflite';
export const PERSON_IMAGES = ['test/fixtures/person_detect/person_input_int8.bin', 'test/fixtures/person_detect/no_person_input_int8.bin'];
export const MNIST_S = 'models/mnist-s.tflite';
export const MNIST_L = 'models/mnist-l.tflite';
export const MNIST_TEST = 'models/data/mnist-test-500.bin';

/** `n` int8 tensors for the graph's single input, uniform over -128..127, from `seed`. */
export function randomInputs(graph: Graph, n: number, seed: number): Int8Array[] {
  const random = seededRandom(seed);
  const size = numElements(graph.tensors[graph.inputs[0]].shape);
  return Array.from({ length: n }, () => Int8Array.from({ length: size }, () => Math.floor(random() * 256) - 128));
}

/** person_detect's two test images, then seeded random images up to `n`. */
export function personDetectInputs(graph: Graph, n: number): TensorData[] {
  const images = PERSON_IMAGES.map((f) => readInput(f, graph.tensors[graph.inputs[0]]));
  return [...images, ...randomInputs(graph, n - images.length, 20261123)];
}

/** The first `n` images of the bundled MNIST test subset. */
export function mnistInputs(n: number): Int8Array[] {
  const set = readSubset(readFileSync(MNIST_TEST), MNIST_TEST);
  return Array.from({ length: n }, (_, i) => image(set, i));
}

/** mnist-s, its first `n` test images, and the oracle's output for each: what the fault and executor tests run. */
export async function mnistCase(n: number): Promise<{ graph: Graph; inputs: Int8Array[]; expected: Buffer[] }> {
  const graph = await loadModel(MNIST_S);
  const inputs = mnistInputs(n);
  return { graph, inputs, expected: await oracleOutputs(graph, inputs) };
}

/** The oracle's output (the graph's first) for every input, as bytes. */
export async function oracleOutputs(graph: Graph, inputs: TensorData[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const x of inputs) out.push(bytes((await runGraph(oracle, graph, [x]))[0]));
  return out;
}

export function bytes(d: TensorData): Buffer {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * Plans and deploys `file`'s model on the testbed, runs its inputs with
 * `inFlight` at a time, and returns the outputs beside the oracle's (as bytes)
 * with the plan and executor for further checks.
 */
export async function splitRun(open: OpenTestbed, file: string, makeInputs: (g: Graph) => TensorData[], inFlight: number) {
  const graph = await loadModel(file);
  const inputs = makeInputs(graph);
  const { plan, executor } = await deployModel(graph, open);
  const results = await executor.inferMany(
    inputs.map((x) => [x]),
    inFlight,
  );
  return { plan, executor, outputs: results.map((r) => bytes(r.outputs[0])), expected: await oracleOutputs(graph, inputs) };
}

/** Kinds of process a testbed starts: device processes, socat PTY pairs, QEMU boards. */
const TESTBED_COMMANDS = /^(node|socat|qemu-system-)/;

/** Process ids of this process's live children of the kinds a testbed starts. */
export function childPids(): number[] {
  return liveChildren(process.pid, TESTBED_COMMANDS);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Closes the testbeds and returns the processes they leave behind: device pids still alive, and any new child. */
export async function closeAndListLeftovers(opens: OpenTestbed[], childrenBefore: number[]): Promise<number[]> {
  const pids = opens.flatMap((o) => o.testbed.devices.map((d) => d.pid)).filter((p): p is number => p !== undefined);
  await Promise.all(opens.map((o) => o.close()));
  const stray = childPids().filter((p) => !childrenBefore.includes(p));
  return [...new Set([...pids.filter(isAlive), ...stray])];
}

export interface Outcome {
  outputs: Buffer[];
  /** The error that ended the run early, and how long the failing inference took. */
  error?: Error;
  failedAfterMs?: number;
  /** Lines the executor logged (devices marked unhealthy, re-dispatches). */
  log: string[];
}

/**
 * Runs inferences one at a time, cycling through the inputs, until `count`
 * have completed and `done()` holds (or 40 s have passed), or one fails.
 */
export async function runInferences(executor: Executor, inputs: Int8Array[], count: number, log: string[], done = () => true): Promise<Outcome> {
  const outputs: Buffer[] = [];
  const giveUp = performance.now() + 40_000;
  for (let i = 0; (i < count || !done()) && performance.now() < giveUp; i++) {
    const start = performance.now();
    try {
      outputs.push(bytes((await executor.infer([inputs[i % inputs.length]], i)).outputs[0]));
    } catch (e) {
      return { outputs, error: e as Error, failedAfterMs: performance.now() - start, log };
    }
  }
  return { outputs, log };
}
