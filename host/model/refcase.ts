// Reference cases: one case of a TFLM vector file (schema_version 1, see
// test/vectors/tflm/README.md) as a validated one-op IR graph, its input
// data and the output it must produce.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { type Graph, type Op, type Quant, type Tensor, type TensorData } from './ir.ts';
import { validateGraph } from './validate.ts';

const int = z.number().int();
const activation = z.enum(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1']);
const padding = z.enum(['SAME', 'VALID']);

const quantFields = {
  shape: z.array(int.nonnegative()),
  scale: z.number().positive().optional(),
  zero_point: int.optional(),
  scales: z.array(z.number()).optional(),
  zero_points: z.array(int).optional(),
  quantized_dimension: int.nonnegative().optional(),
};
const dataTensor = z.object({ dtype: z.enum(['int8', 'int4', 'int32']), ...quantFields, q: z.array(int) });
const outputTensor = z.object({ dtype: z.enum(['int8', 'int16']), ...quantFields, expected_q: z.array(int) });

const caseCommon = {
  name: z.string(),
  output: outputTensor,
  tolerance: z.object({ value: z.number().nonnegative() }),
  reference_output_q: z.object({ double_rounding: z.array(int).optional() }).optional(),
};
const convParams = z.object({
  padding,
  stride_h: int,
  stride_w: int,
  dilation_h: int,
  dilation_w: int,
  activation,
  depth_multiplier: int.optional(),
});
const poolParams = z.object({ padding, filter_h: int, filter_w: int, stride_h: int, stride_w: int, activation });

const CASE_SCHEMAS = {
  CONV_2D: z.object({ ...caseCommon, params: convParams, input: dataTensor, filter: dataTensor, bias: dataTensor.nullable() }),
  DEPTHWISE_CONV_2D: z.object({ ...caseCommon, params: convParams, input: dataTensor, filter: dataTensor, bias: dataTensor.nullable() }),
  FULLY_CONNECTED: z.object({
    ...caseCommon,
    params: z.object({ activation, weights_format: z.literal('DEFAULT'), keep_num_dims: z.boolean() }),
    input: dataTensor,
    filter: dataTensor,
    bias: dataTensor.nullable().optional(),
  }),
  MAX_POOL_2D: z.object({ ...caseCommon, params: poolParams, input: dataTensor }),
  AVERAGE_POOL_2D: z.object({ ...caseCommon, params: poolParams, input: dataTensor }),
  ADD: z.object({ ...caseCommon, params: z.object({ activation }), input1: dataTensor, input2: dataTensor }),
  SOFTMAX: z.object({ ...caseCommon, params: z.object({ beta: z.number().positive(), axis: z.literal('last') }), input: dataTensor }),
};
type VectorOp = keyof typeof CASE_SCHEMAS;

const vectorFile = z.object({
  op: z.enum(Object.keys(CASE_SCHEMAS) as [VectorOp, ...VectorOp[]]),
  schema_version: z.literal(1),
  cases: z.array(z.unknown()),
});

export interface RefCase {
  /** "<file>:<case name>" */
  id: string;
  name: string;
  graph: Graph;
  /** One per graph input. */
  inputs: TensorData[];
  /** What the output must be: the TFLM default-build output when known (exact), else the test's golden. */
  expected: number[];
  /** Allowed |expected - actual| per element (0 when `expected` is the bit-exact reference). */
  tolerance: number;
  /** Where `expected` came from. */
  basis: 'reference_output_q.double_rounding' | 'expected_q';
}

type Raw = z.infer<typeof dataTensor> | z.infer<typeof outputTensor>;

function quantOf(t: Raw): Quant {
  if (t.scales) return { scale: t.scales, zeroPoint: t.zero_points ?? t.scales.map(() => 0), axis: t.quantized_dimension };
  return { scale: [t.scale ?? 1], zeroPoint: [t.zero_point ?? 0] };
}

/** int4 values are stored one per element and widened to int8 before the kernel runs. */
function tensorOf(name: string, t: z.infer<typeof dataTensor>, constant: boolean): Tensor {
  const dtype = t.dtype === 'int32' ? 'int32' : 'int8';
  const quant = quantOf(t);
  // The bias's per-channel scales are only nominal; they run along its last axis.
  if (dtype === 'int32' && quant.scale.length > 1) quant.axis = t.shape.length - 1;
  const tensor: Tensor = { name, shape: t.shape, dtype, quant };
  if (constant) tensor.data = dtype === 'int32' ? Int32Array.from(t.q) : Int8Array.from(t.q);
  return tensor;
}

function dataOf(t: z.infer<typeof dataTensor>): TensorData {
  return Int8Array.from(t.q);
}

/** Builds the one-op graph of a case of vector file op `op`. Throws one line naming the case and what is wrong. */
export function refCase(op: string, raw: unknown, file = '?'): RefCase {
  const name = (raw as { name?: unknown })?.name;
  const id = `${file}:${typeof name === 'string' ? name : '?'}`;
  const schema = CASE_SCHEMAS[op as VectorOp];
  if (!schema) throw new Error(`${id}: unsupported op ${op}`);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${id}: ${issue.path.join('.') || 'case'}: ${issue.message}`);
  }
  const c = parsed.data;
  const out: Tensor = { name: 'output', shape: c.output.shape, dtype: c.output.dtype, quant: quantOf(c.output) };
  const tensors: Tensor[] = [];
  const add = (t: Tensor) => tensors.push(t) - 1;
  let opRecord: Op;
  let inputs: TensorData[];
  if ('input1' in c) {
    const a = add(tensorOf('input1', c.input1, false));
    const b = add(tensorOf('input2', c.input2, false));
    opRecord = { kind: 'ADD', inputs: [a, b], outputs: [add(out)], activation: c.params.activation };
    inputs = [dataOf(c.input1), dataOf(c.input2)];
  } else {
    const x = add(tensorOf('input', c.input, false));
    inputs = [dataOf(c.input)];
    if ('filter' in c) {
      const w = add(tensorOf('filter', c.filter, true));
      const b = c.bias ? add(tensorOf('bias', c.bias, true)) : -1;
      const y = add(out);
      const ids = { inputs: [x, w, b], outputs: [y] };
      if ('keep_num_dims' in c.params) {
        opRecord = { kind: 'FULLY_CONNECTED', ...ids, activation: c.params.activation, keepNumDims: c.params.keep_num_dims };
      } else {
        const p = c.params;
        const conv = { ...ids, padding: p.padding, strideH: p.stride_h, strideW: p.stride_w, dilationH: p.dilation_h, dilationW: p.dilation_w, activation: p.activation };
        opRecord =
          op === 'DEPTHWISE_CONV_2D'
            ? { kind: 'DEPTHWISE_CONV_2D', ...conv, depthMultiplier: p.depth_multiplier ?? 1 }
            : { kind: 'CONV_2D', ...conv };
      }
    } else if ('filter_h' in c.params) {
      const p = c.params;
      opRecord = {
        kind: op as 'MAX_POOL_2D' | 'AVERAGE_POOL_2D',
        inputs: [x],
        outputs: [add(out)],
        padding: p.padding,
        strideH: p.stride_h,
        strideW: p.stride_w,
        filterH: p.filter_h,
        filterW: p.filter_w,
        activation: p.activation,
      };
    } else {
      opRecord = { kind: 'SOFTMAX', inputs: [x], outputs: [add(out)], beta: (c.params as { beta: number }).beta };
    }
  }
  const graph: Graph = { name: id, tensors, ops: [opRecord], inputs: opRecord.kind === 'ADD' ? [0, 1] : [0], outputs: [tensors.length - 1] };
  try {
    validateGraph(graph);
  } catch (e) {
    throw new Error(`${id}: ${(e as Error).message}`);
  }
  const reference = c.reference_output_q?.double_rounding;
  return reference
    ? { id, name: c.name, graph, inputs, expected: reference, tolerance: 0, basis: 'reference_output_q.double_rounding' }
    : { id, name: c.name, graph, inputs, expected: c.output.expected_q, tolerance: c.tolerance.value, basis: 'expected_q' };
}

/** All cases of one vector file. */
export function loadVectorFile(path: string): RefCase[] {
  const file = basename(path);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read vector file: ${(e as Error).message}`);
  }
  const parsed = vectorFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  return parsed.data.cases.map((raw) => refCase(parsed.data.op, raw, file));
}

export interface CaseVerdict {
  ok: boolean;
  /** One line saying what differs, when not ok. */
  detail?: string;
}

/** Compares an engine's output with the case's expectation. */
export function judge(rc: RefCase, actual: TensorData): CaseVerdict {
  if (actual.length !== rc.expected.length)
    return { ok: false, detail: `output has ${actual.length} values, expected ${rc.expected.length}` };
  let bad = 0;
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i] - rc.expected[i]) > rc.tolerance) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad === 0) return { ok: true };
  const within = rc.tolerance === 0 ? 'exactly' : `within ${rc.tolerance}`;
  return {
    ok: false,
    detail: `output[${first}] = ${actual[first]}, expected ${rc.expected[first]} ${within} (${rc.basis}); ${bad} of ${actual.length} values differ`,
  };
}
