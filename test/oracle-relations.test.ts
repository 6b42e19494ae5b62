// Relations between ops that TFLM's arithmetic makes exact, checked on random
// shapes and quantization: different code paths of the oracle must agree.
//  - a CONV_2D whose kernel covers the whole input (VALID) is a per-channel FC
//    over the flattened input;
//  - a 1x1 CONV_2D is a per-channel FC applied to every pixel;
//  - ADD does not depend on the order of its inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../host/model/engine.ts';
import { type Activation, type Graph, type Tensor } from '../host/model/ir.ts';
import { validateGraph } from '../host/model/validate.ts';
import { oracle } from '../host/model/oracle.ts';

const int8s = (n: number) => fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n }).map((a) => Int8Array.from(a));
const zeroPoint = fc.oneof(fc.constantFrom(-128, 127, 0), fc.integer({ min: -128, max: 127 }));
// Per-channel effective scales from flushed (< 2^-32) to well above one.
const scale = fc.oneof(fc.double({ min: 1e-4, max: 4, noNaN: true }), fc.constantFrom(1e-12, 0.5, 1, 3.999)).map(Math.fround);
const activation = fc.constantFrom<Activation>('NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1');

interface Dense {
  /** FC batches: the conv's batches, or its pixels in the 1x1 relation. */
  batches: number;
  units: number;
  /** The reduction length FC sees: H * W * C of the conv. */
  depth: number;
  weights: Int8Array;
  bias: Int32Array;
  filterScales: number[];
  inQ: { scale: number; zp: number };
  outQ: { scale: number; zp: number };
  activation: Activation;
  /** The conv's [h, w, c]. */
  hwc: [number, number, number];
  /** batches * depth values. */
  input: Int8Array;
}

const dense = (spatial: fc.Arbitrary<[number, number, number]>): fc.Arbitrary<Dense> =>
  fc
    .record({ batches: fc.integer({ min: 1, max: 3 }), units: fc.integer({ min: 2, max: 6 }), hwc: spatial })
    .chain(({ batches, units, hwc }) => {
      const depth = hwc[0] * hwc[1] * hwc[2];
      return fc.record({
        batches: fc.constant(batches),
        units: fc.constant(units),
        hwc: fc.constant(hwc),
        depth: fc.constant(depth),
        weights: int8s(units * depth),
        bias: fc.array(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), { minLength: units, maxLength: units }).map((a) => Int32Array.from(a)),
        filterScales: fc.array(scale, { minLength: units, maxLength: units }),
        inQ: fc.record({ scale, zp: zeroPoint }),
        outQ: fc.record({ scale, zp: zeroPoint }),
        activation,
        input: int8s(batches * depth),
      });
    });

const q = (s: { scale: number; zp: number }) => ({ scale: [s.scale], zeroPoint: [s.zp] });

function fcGraph(d: Dense, inputShape: number[]): Graph {
  const tensors: Tensor[] = [
    { name: 'x', shape: inputShape, dtype: 'int8', quant: q(d.inQ) },
    { name: 'w', shape: [d.units, d.depth], dtype: 'int8', quant: { scale: d.filterScales, zeroPoint: d.filterScales.map(() => 0) }, data: d.weights },
    { name: 'b', shape: [d.units], dtype: 'int32', data: d.bias },
    { name: 'y', shape: [d.batches, d.units], dtype: 'int8', quant: q(d.outQ) },
  ];
  return validateGraph({ tensors, ops: [{ kind: 'FULLY_CONNECTED', inputs: [0, 1, 2], outputs: [3], activation: d.activation, keepNumDims: false }], inputs: [0], outputs: [3] });
}

function convGraph(d: Dense, input: number[], kernel: [number, number], output: number[]): Graph {
  const tensors: Tensor[] = [
    { name: 'x', shape: input, dtype: 'int8', quant: q(d.inQ) },
    { name: 'w', shape: [d.units, ...kernel, input[3]], dtype: 'int8', quant: { scale: d.filterScales, zeroPoint: d.filterScales.map(() => 0) }, data: d.weights },
    { name: 'b', shape: [d.units], dtype: 'int32', data: d.bias },
    { name: 'y', shape: output, dtype: 'int8', quant: q(d.outQ) },
  ];
  const op = { kind: 'CONV_2D' as const, inputs: [0, 1, 2], outputs: [3], padding: 'VALID' as const, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: d.activation };
  return validateGraph({ tensors, ops: [op], inputs: [0], outputs: [3] });
}

const RUNS = { numRuns: 60 };
const dims = (max: number) => fc.integer({ min: 1, max });

describe('CONV_2D and FULLY_CONNECTED agree where TFLM makes them the same', () => {
  it('a conv whose kernel is the whole input equals FC over the flattened input', async () => {
    await fc.assert(
      fc.asyncProperty(dense(fc.tuple(dims(4), dims(4), dims(5))), async (d) => {
        const [h, w, c] = d.hwc;
        // Conv filter [units, h, w, c] flattened row-major is FC's [units, h*w*c].
        const conv = convGraph(d, [d.batches, h, w, c], [h, w], [d.batches, 1, 1, d.units]);
        const dense = fcGraph(d, [d.batches, h, w, c]);
        const [a] = await runGraph(oracle, conv, [d.input]);
        const [b] = await runGraph(oracle, dense, [d.input]);
        expect(Array.from(a)).toEqual(Array.from(b));
      }),
      RUNS,
    );
  });

  it('a 1x1 conv equals FC applied to every pixel', async () => {
    // FC's batches laid out as the conv's batches, rows or columns.
    const layout = fc.constantFrom('batches', 'rows', 'columns');
    await fc.assert(
      fc.asyncProperty(dense(fc.tuple(fc.constant(1), fc.constant(1), dims(6))), layout, async (d, where) => {
        const n = d.batches;
        const c = d.depth;
        const [b, h, w] = where === 'batches' ? [n, 1, 1] : where === 'rows' ? [1, n, 1] : [1, 1, n];
        const conv = convGraph(d, [b, h, w, c], [1, 1], [b, h, w, d.units]);
        const [a] = await runGraph(oracle, conv, [d.input]);
        const [f] = await runGraph(oracle, fcGraph(d, [n, c]), [d.input]);
        expect(Array.from(a)).toEqual(Array.from(f));
      }),
      RUNS,
    );
  });
});

describe('ADD', () => {
  it('gives the same output with its inputs swapped, broadcast included', async () => {
    const shapes = fc.tuple(dims(2), dims(3), dims(3), dims(4)).chain((full) =>
      fc.tuple(fc.constant(full), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })).map(([f, ones]) => [f, f.map((d, i) => (ones[i] ? 1 : d))] as const),
    );
    // Output scale large enough for ADD's multiplier to stay below one.
    const addQ = fc.record({ scale: fc.double({ min: 0.01, max: 4, noNaN: true }).map(Math.fround), zp: zeroPoint });
    await fc.assert(
      fc.asyncProperty(shapes, addQ, addQ, addQ, activation, async ([sa, sb], qa, qb, qo, act) => {
        const na = sa.reduce((x, y) => x * y);
        const nb = sb.reduce((x, y) => x * y);
        const a = Int8Array.from({ length: na }, (_, i) => ((i * 97 + qa.zp) & 255) - 128);
        const b = Int8Array.from({ length: nb }, (_, i) => ((i * 31 + qb.zp) & 255) - 128);
        const graph = (first: 0 | 1): Graph =>
          validateGraph({
            tensors: [
              { name: 'a', shape: [...sa], dtype: 'int8', quant: q(qa) },
              { name: 'b', shape: [...sb], dtype: 'int8', quant: q(qb) },
              { name: 'y', shape: [...sa], dtype: 'int8', quant: q(qo) },
            ],
            ops: [{ kind: 'ADD', inputs: first === 0 ? [0, 1] : [1, 0], outputs: [2], activation: act }],
            inputs: [0, 1],
            outputs: [2],
          });
        const [ab] = await runGraph(oracle, graph(0), [a, b]);
        const [ba] = await runGraph(oracle, graph(1), [a, b]);
        expect(Array.from(ab)).toEqual(Array.from(ba));
      }),
      RUNS,
    );
  });
});
