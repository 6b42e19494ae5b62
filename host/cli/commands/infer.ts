// `microsplit infer`: one inference in this process, on the AS kernels (wasm)
// or the oracle. Prints each output tensor and its top classes; with --json
// the last line is one JSON object (outputs, shapes, dtypes, top classes).
import { Command, Option } from 'commander';
import { basename } from 'node:path';
import { runGraph } from '../../model/engine.ts';
import { PIXEL_MODES, readInput, type PixelMode } from '../../model/inputs.ts';
import type { Graph, Tensor, TensorData } from '../../model/ir.ts';
import { loadModel } from '../../model/load.ts';
import { ENGINE_NAMES, selectEngine, type EngineName } from '../conformance.ts';

interface InferOptions {
  model: string;
  input: string[];
  engine: EngineName;
  pixels: PixelMode;
  top: number;
  json?: boolean;
}

export interface RankedClass {
  class: number;
  /** The output value: dequantized when the tensor is quantized. */
  value: number;
}

export interface InferResult {
  model: string;
  engine: string;
  outputs: number[][];
  shapes: number[][];
  dtypes: string[];
  /** Per output, per row of its last axis: the highest values first. */
  top: RankedClass[][][];
}

export function register(program: Command): void {
  program
    .command('infer')
    .description('run a model once in this process and print its outputs and top classes')
    .requiredOption('--model <file>', 'model file (.tflite or .msb)')
    .option('--input <file>', 'input for the next graph input: .bin, .json, .npy, .bmp, .pgm (repeat once per input, in order)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(new Option('--engine <name>', 'what runs the graph').choices(ENGINE_NAMES).default('wasm'))
    .addOption(new Option('--pixels <mode>', 'how image bytes become int8: raw bytes, or byte - 128').choices(PIXEL_MODES).default('raw'))
    .option('--top <k>', 'classes to list per output row', (v) => positiveInt(v, '--top'), 3)
    .option('--json', 'print one JSON object as the last line')
    .action(async (opts: InferOptions) => {
      const graph = await loadModel(opts.model);
      if (opts.input.length !== graph.inputs.length)
        throw new Error(`${basename(opts.model)} has ${graph.inputs.length} input(s) (${describeInputs(graph)}); ${opts.input.length} --input given`);
      const inputs = opts.input.map((file, k) => readInput(file, graph.tensors[graph.inputs[k]], opts.pixels));
      const engine = await selectEngine({ engine: opts.engine });
      const outputs = await runGraph(engine, graph, inputs);
      const result = inferResult(opts.model, engine.name, graph, outputs, opts.top);
      printResult(graph, result);
      if (opts.json) console.log(JSON.stringify(result));
    });
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${v}"`);
  return n;
}

function describeInputs(g: Graph): string {
  return g.inputs.map((id) => `${g.tensors[id].name} ${g.tensors[id].dtype}[${g.tensors[id].shape}]`).join(', ');
}

function dequantize(t: Tensor, v: number): number {
  return t.quant ? t.quant.scale[0] * (v - t.quant.zeroPoint[0]) : v;
}

/** Top k of each row along the last axis, ranked by raw value (ties: lower class first). */
function topClasses(t: Tensor, data: TensorData, k: number): RankedClass[][] {
  const classes = t.shape[t.shape.length - 1] ?? 1;
  const rows: RankedClass[][] = [];
  for (let r = 0; r * classes < data.length; r++) {
    const row = Array.from({ length: classes }, (_, c) => ({ c, raw: data[r * classes + c] }));
    row.sort((a, b) => b.raw - a.raw || a.c - b.c);
    rows.push(row.slice(0, Math.min(k, classes)).map(({ c, raw }) => ({ class: c, value: dequantize(t, raw) })));
  }
  return rows;
}

export function inferResult(model: string, engine: string, g: Graph, outputs: TensorData[], k: number): InferResult {
  const tensors = g.outputs.map((id) => g.tensors[id]);
  return {
    model,
    engine,
    outputs: outputs.map((o) => Array.from(o)),
    shapes: tensors.map((t) => t.shape),
    dtypes: tensors.map((t) => t.dtype),
    top: tensors.map((t, i) => topClasses(t, outputs[i], k)),
  };
}

const MAX_PRINTED = 64;

export function printResult(g: Graph, r: InferResult): void {
  console.log(`${basename(r.model)}: ${g.ops.length} ops, engine ${r.engine}`);
  g.outputs.forEach((id, i) => {
    const t = g.tensors[id];
    const values = r.outputs[i];
    const shown = values.slice(0, MAX_PRINTED).join(', ') + (values.length > MAX_PRINTED ? `, ... (${values.length} values)` : '');
    console.log(`output ${i} ${t.name} ${t.dtype}[${t.shape}]: [${shown}]`);
    r.top[i].slice(0, 8).forEach((row, rowIndex) => {
      const ranked = row.map((c) => `${c.class} (${Number(c.value.toPrecision(4))})`).join(', ');
      console.log(`  top${r.top[i].length > 1 ? ` row ${rowIndex}` : ''}: ${ranked}`);
    });
  });
}
