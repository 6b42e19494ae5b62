// Malformed graphs are refused with one line naming the op, its index and
// the field, by validateGraph (shapes, types) or prepareOp (quantization).
import { describe, expect, it } from 'vitest';
import { GraphError, type Graph } from '../host/model/ir.ts';
import { validateGraph } from '../host/model/validate.ts';
import { prepareOp } from '../host/model/op-params.ts';
import { oracle } from '../host/model/oracle.ts';

const q = (scale: number, zp = 0) => ({ scale: [scale], zeroPoint: [zp] });

/** input [1,4,4,3] -CONV 3x3 SAME-> [1,4,4,2] -FC-> [1,5] -SOFTMAX-> [1,5] */
function baseGraph(): Graph {
  return {
    tensors: [
      { name: 'x', shape: [1, 4, 4, 3], dtype: 'int8', quant: q(0.5, -3) },
      { name: 'w', shape: [2, 3, 3, 3], dtype: 'int8', quant: q(0.01), data: Int8Array.from({ length: 54 }, (_, i) => (i * 37) % 255 - 127) },
      { name: 'b', shape: [2], dtype: 'int32', data: Int32Array.from([100, -200]) },
      { name: 'c', shape: [1, 4, 4, 2], dtype: 'int8', quant: q(0.25, 5) },
      { name: 'fw', shape: [5, 32], dtype: 'int8', quant: q(0.02), data: Int8Array.from({ length: 160 }, (_, i) => (i * 53) % 255 - 127) },
      { name: 'f', shape: [1, 5], dtype: 'int8', quant: q(0.1, 0) },
      { name: 'p', shape: [1, 5], dtype: 'int8', quant: q(1 / 256, -128) },
    ],
    ops: [
      { kind: 'CONV_2D', inputs: [0, 1, 2], outputs: [3], padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'RELU' },
      { kind: 'FULLY_CONNECTED', inputs: [3, 4, -1], outputs: [5], activation: 'NONE', keepNumDims: false },
      { kind: 'SOFTMAX', inputs: [5], outputs: [6], beta: 1 },
    ],
    inputs: [0],
    outputs: [6],
  };
}

function refusal(check: (g: Graph) => unknown, g: Graph): GraphError {
  try {
    check(g);
  } catch (e) {
    return e as GraphError;
  }
  throw new Error('the graph was accepted');
}

describe('a well-formed graph', () => {
  it('validates and runs, giving a probability row', async () => {
    const values = await oracle.runAll(validateGraph(baseGraph()), [Int8Array.from({ length: 48 }, (_, i) => i - 24)]);
    const probs = Array.from(values[6]!, (v) => (v + 128) / 256);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
  });

  it('accepts a conv output larger than the padding formula, as TFLM does', () => {
    const g = baseGraph();
    const conv = g.ops[0] as { padding: string };
    conv.padding = 'VALID'; // formula gives 2x2; the declared 4x4 stays
    expect(() => validateGraph(g)).not.toThrow();
  });
});

describe.each([
  {
    what: 'filter depth not matching the input channels',
    mutate: (g: Graph) => (g.tensors[1] = { ...g.tensors[1], shape: [2, 3, 3, 2], data: new Int8Array(36) }),
    check: validateGraph,
    op: 0,
    field: 'inputs[1].shape',
    message: 'op 0 (CONV_2D): inputs[1].shape: filter depth 2 != input channels 3',
  },
  {
    what: 'conv output smaller than the padding formula',
    mutate: (g: Graph) => (g.tensors[3].shape = [1, 3, 4, 2]),
    check: validateGraph,
    op: 0,
    field: 'outputs[0].shape',
    message: 'op 0 (CONV_2D): outputs[0].shape: expected [1,>=4,>=4,2], got [1,3,4,2]',
  },
  {
    what: 'an FC weight matrix whose depth does not divide the input',
    mutate: (g: Graph) => (g.tensors[4] = { ...g.tensors[4], shape: [5, 30], data: new Int8Array(150) }),
    check: validateGraph,
    op: 1,
    field: 'inputs[1].shape',
    message: 'op 1 (FULLY_CONNECTED): inputs[1].shape: input of 32 values is not a multiple of depth 30',
  },
  {
    what: 'an unknown fused activation',
    mutate: (g: Graph) => ((g.ops[1] as { activation: string }).activation = 'TANH'),
    check: validateGraph,
    op: 1,
    field: 'activation',
    message: 'op 1 (FULLY_CONNECTED): activation: unknown activation TANH',
  },
  {
    what: 'softmax int8 output not at scale 1/256, zero point -128',
    mutate: (g: Graph) => (g.tensors[6].quant = q(1 / 128, -128)),
    check: (g: Graph) => prepareOp(validateGraph(g), 2),
    op: 2,
    field: 'outputs[0].quant',
    message: 'op 2 (SOFTMAX): outputs[0].quant: int8 softmax output needs scale 0.00390625 and zero point -128, got 0.0078125 and -128',
  },
  {
    what: 'conv weights with a nonzero zero point',
    mutate: (g: Graph) => (g.tensors[1].quant = q(0.01, 2)),
    check: (g: Graph) => prepareOp(validateGraph(g), 0),
    op: 0,
    field: 'inputs[1].quant.zeroPoint',
    message: 'op 0 (CONV_2D): inputs[1].quant.zeroPoint: conv weights must have zero point 0 (TFLM asserts it)',
  },
  {
    what: 'FC weights with a nonzero zero point',
    mutate: (g: Graph) => (g.tensors[4].quant = q(0.02, -1)),
    check: (g: Graph) => prepareOp(validateGraph(g), 1),
    op: 1,
    field: 'inputs[1].quant.zeroPoint',
    message: 'op 1 (FULLY_CONNECTED): inputs[1].quant.zeroPoint: FC weights must have zero point 0 (TFLM asserts it)',
  },
])('a graph with $what', ({ mutate, check, op, field, message }) => {
  it(`is refused naming op ${op} and ${field}`, () => {
    const g = baseGraph();
    mutate(g);
    const e = refusal(check, g);
    expect(e).toBeInstanceOf(GraphError);
    expect(e.message).toBe(message);
    expect([e.opIndex, e.field]).toEqual([op, field]);
  });
});
