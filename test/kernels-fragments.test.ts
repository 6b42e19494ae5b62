// Property tests of the AS kernels: for random ops (shapes, strides,
// dilations, paddings, quantization with extreme multipliers and zero
// points) and random partitions of the output into boxes, the stitched
// fragments equal the whole layer, which equals the oracle, bit for bit.
// Under Node's WebAssembly and under the wasm3 interpreter.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createWasmEngine, KernelError, type KernelVm, type WasmEngine } from '../host/run/wasm-engine.ts';
import { missingWasm3 } from '../host/wasm3/build.ts';
import { toolGate } from './tool-gate.ts';
import { KERNEL_ERROR } from '../host/abi/kernel-abi.ts';
import { extractBox } from '../host/run/boxes.ts';
import { fcPartialSums, runOpBox, wholeOutputBox } from '../host/model/oracle.ts';
import { wholeTile } from '../host/model/oracle/tile.ts';
import type { FullyConnectedParams } from '../host/model/op-params.ts';
import {
  addCase,
  convCase,
  cuts,
  fcCase,
  gridBoxes,
  poolCase,
  requantizeCase,
  runStitched,
  softmaxCase,
  tilesFor,
  outputSpace,
  type OpCase,
} from './kernels-cases.ts';

const RUNS = 150;
const VMS: { vm: KernelVm; gate: ReturnType<typeof toolGate> }[] = [
  { vm: 'v8', gate: toolGate(null) },
  { vm: 'wasm3', gate: toolGate(missingWasm3()) },
];
let engine: WasmEngine;

const wholeTiles = (c: OpCase) => c.params.inputs.map((id, k) => wholeTile(c.inputs[k], c.graph.tensors[id].shape));

/** Whole layer on the kernels == oracle, and the stitched partition == whole. */
function checkCase(c: OpCase, fractions: number[][], axes: number[]): void {
  const p = c.params;
  const box = wholeOutputBox(p);
  const expected = runOpBox(p, wholeTiles(c), box);
  const whole = engine.runFragment(p, wholeTiles(c), box);
  expect(Array.from(whole), `${c.label}: whole layer vs oracle`).toEqual(Array.from(expected));
  const boxes = gridBoxes(outputSpace(p), fractions, axes);
  expect(Array.from(runStitched(engine, c, boxes)), `${c.label}: ${boxes.length} stitched boxes vs whole`).toEqual(Array.from(whole));
}

const ALL_AXES = [0, 1, 2, 3];
const property = (arb: fc.Arbitrary<OpCase>, axesOf: (c: OpCase) => number[] = () => ALL_AXES) =>
  fc.assert(
    fc.property(arb, cuts, (c, fractions) => checkCase(c, fractions, axesOf(c))),
    { numRuns: RUNS },
  );

describe.each(VMS)('$vm', ({ vm, gate }) => {
  describe.skipIf(gate.skip)(`stitched fragments == whole layer == oracle${gate.note}`, () => {
    beforeAll(async () => {
      gate.check();
      engine = await createWasmEngine(undefined, vm);
    });

    it.each([
      ['CONV_2D', () => property(convCase('CONV_2D'))],
      ['DEPTHWISE_CONV_2D', () => property(convCase('DEPTHWISE_CONV_2D'))],
      ['MAX_POOL_2D', () => property(poolCase('MAX_POOL_2D'))],
      ['AVERAGE_POOL_2D', () => property(poolCase('AVERAGE_POOL_2D'))],
      ['FULLY_CONNECTED by batches and units', () => property(fcCase)],
      ['ADD with broadcast', () => property(addCase)],
      // Softmax boxes hold whole rows: cut every axis but the last.
      ['SOFTMAX int8 and int16', () => property(softmaxCase, (c) => ALL_AXES.slice(0, c.params.outputShape.length - 1))],
      ['QUANTIZE int8 -> int8', () => property(requantizeCase)],
    ])('%s', (_name, run) => run());

    it.each([
      ['CONV_2D', convCase('CONV_2D')],
      ['DEPTHWISE_CONV_2D', convCase('DEPTHWISE_CONV_2D')],
      ['MAX_POOL_2D', poolCase('MAX_POOL_2D')],
    ])('%s: the required tile less one row, column, channel or batch item on either side is refused with TILE_TOO_SMALL', (_name, arb) => {
      fc.assert(
        fc.property(arb, cuts, (c, fractions) => {
          const box = gridBoxes(outputSpace(c.params), fractions, ALL_AXES)[0];
          const [tile] = tilesFor(c, box);
          for (let axis = 0; axis < tile.shape.length; axis++) {
            if (tile.shape[axis] === 0) continue;
            for (const fromStart of [true, false]) {
              const start = tile.origin.map((o, i) => (i === axis && fromStart ? o + 1 : o));
              const end = tile.origin.map((o, i) => o + tile.shape[i] - (i === axis && !fromStart ? 1 : 0));
              const smaller = { data: extractBox(c.inputs[0], c.graph.tensors[c.params.inputs[0]].shape, { start, end }), origin: start, shape: end.map((e, i) => e - start[i]) };
              let code = 0;
              try {
                engine.runFragment(c.params, [smaller], box);
              } catch (e) {
                code = e instanceof KernelError ? e.code : -1;
              }
              expect(code, `${c.label}: box [${box.start}]..[${box.end}], axis ${axis} shrunk at the ${fromStart ? 'start' : 'end'}`).toBe(KERNEL_ERROR.TILE_TOO_SMALL);
            }
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('FULLY_CONNECTED partial sums over a depth partition equal the oracle and reduce to the whole layer', () => {
      fc.assert(
        fc.property(fcCase, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), cuts, (c, depthCuts, fractions) => {
          const p = c.params as FullyConnectedParams;
          const whole = engine.runFragment(p, wholeTiles(c), wholeOutputBox(p));
          const points = [0, ...new Set(depthCuts.map((f) => Math.floor(f * p.depth)).filter((d) => d > 0 && d < p.depth).sort((a, b) => a - b)), p.depth];
          const ranges = points.slice(1).map((e, i): [number, number] => [points[i], e]);
          for (const box of gridBoxes([p.batches, p.units], fractions, [0, 1])) {
            const parts = ranges.map((depth) => {
              const tiles = tilesFor(c, box, depth);
              const sums = engine.runFragment(p, tiles, box, { depth });
              // A range covering the whole depth yields int8 output instead; only true partials are compared.
              if (ranges.length > 1) expect(Array.from(sums), `${c.label} depth [${depth}]`).toEqual(Array.from(fcPartialSums(p, tiles[0], box, depth)));
              return sums;
            });
            const reduced = ranges.length > 1 ? engine.fcReduce(p, parts as Int32Array[], box) : parts[0];
            const expected = runOpBox(p, tilesFor(c, box), box);
            expect(Array.from(reduced), `${c.label} box [${box.start}]..[${box.end}] over ${ranges.length} depth ranges`).toEqual(Array.from(expected));
          }
          expect(whole.length).toBe(p.batches * p.units);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
