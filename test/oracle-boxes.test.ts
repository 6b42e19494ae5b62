// Fragments: any partition of an op's output into boxes, each computed from
// only the input tile it needs (halo included), stitches to the whole output
// bit for bit. FC also splits its input depth into int32 partial sums.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TensorData } from '../host/model/ir.ts';
import { prepareOp, type FullyConnectedParams, type OpParams } from '../host/model/op-params.ts';
import { fcFinish, fcPartialSums, fcReduce, runOpBox, wholeOutputBox, type Box, type Tile } from '../host/model/oracle.ts';
import { loadVectorFile, type RefCase } from '../host/model/refcase.ts';
import { extractBox, insertBox } from '../host/run/boxes.ts';

const DIR = fileURLToPath(new URL('./vectors/tflm/', import.meta.url));
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((file) => loadVectorFile(DIR + file));
const byName = (name: string): RefCase => cases.find((c) => c.name === name)!;

/** The range of input rows (or columns) that output range [o0, o1) reads, clipped to the input. */
function inputRange(o0: number, o1: number, stride: number, pad: number, effK: number, size: number): [number, number] {
  const lo = Math.max(0, o0 * stride - pad);
  const hi = Math.min(size, (o1 - 1) * stride - pad + effK);
  return [Math.min(lo, size), Math.max(lo, hi)];
}

/** The input boxes a fragment `box` of op `p` needs, one per data input (FC: in its [batches, depth] view). */
function neededBoxes(p: OpParams, box: Box, depth?: [number, number]): Box[] {
  const { start: s, end: e } = box;
  switch (p.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const [, H, W, C] = p.inputShape;
      const [effKh, effKw] =
        'filterH' in p
          ? [p.filterH, p.filterW]
          : [(p.filterShape[1] - 1) * p.dilationH + 1, (p.filterShape[2] - 1) * p.dilationW + 1];
      const [y0, y1] = inputRange(s[1], e[1], p.strideH, p.padTop, effKh, H);
      const [x0, x1] = inputRange(s[2], e[2], p.strideW, p.padLeft, effKw, W);
      const dm = p.kind === 'DEPTHWISE_CONV_2D' ? p.depthMultiplier : 1;
      const [c0, c1] = p.kind === 'CONV_2D' ? [0, C] : [Math.floor(s[3] / dm), Math.floor((e[3] - 1) / dm) + 1];
      return [{ start: [s[0], y0, x0, c0], end: [e[0], y1, x1, c1] }];
    }
    case 'FULLY_CONNECTED': {
      const [d0, d1] = depth ?? [0, p.depth];
      return [{ start: [s[0], d0], end: [e[0], d1] }];
    }
    case 'ADD':
      return [p.input1Shape, p.input2Shape].map((shape) => {
        const lead = s.length - shape.length;
        return {
          start: shape.map((d, j) => (d === 1 ? 0 : s[lead + j])),
          end: shape.map((d, j) => (d === 1 ? 1 : e[lead + j])),
        };
      });
    case 'SOFTMAX':
      return [box];
    default:
      throw new Error(`no tile rule for ${p.kind}`);
  }
}

/** The input tensors' shapes as the tiles see them. */
function inputShapes(p: OpParams): number[][] {
  if (p.kind === 'FULLY_CONNECTED') return [[p.batches, p.depth]];
  if (p.kind === 'ADD') return [p.input1Shape, p.input2Shape];
  return [(p as { inputShape?: number[] }).inputShape ?? p.outputShape];
}

function tilesFor(p: OpParams, inputs: TensorData[], box: Box, depth?: [number, number]): Tile[] {
  const shapes = inputShapes(p);
  return neededBoxes(p, box, depth).map((b, k) => ({
    data: extractBox(inputs[k], shapes[k], b),
    origin: b.start,
    shape: b.end.map((v, i) => v - b.start[i]),
  }));
}

/** Cut points of an axis of size n: a sorted list of interior positions. */
const cutsOf = (n: number) =>
  n <= 1 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.integer({ min: 1, max: n - 1 }), { maxLength: 3 }).map((a) => a.sort((x, y) => x - y));

/** All boxes of the grid cut at `cuts` (one list per axis). */
function gridBoxes(shape: number[], cuts: number[][]): Box[] {
  let boxes: Box[] = [{ start: [], end: [] }];
  shape.forEach((n, ax) => {
    const edges = [0, ...cuts[ax], n];
    boxes = boxes.flatMap((b) => edges.slice(1).map((hi, i) => ({ start: [...b.start, edges[i]], end: [...b.end, hi] })));
  });
  return boxes;
}

function outputView(p: OpParams): number[] {
  return wholeOutputBox(p).end;
}

const partitionable = cases.filter((c) => c.graph.ops[0].kind !== 'FULLY_CONNECTED');

describe('stitched fragments equal the whole op', () => {
  it.each(partitionable.map((c) => [c.id, c] as const))('%s, random box grids', (_id, rc) => {
    const p = prepareOp(rc.graph, 0);
    const shape = outputView(p);
    const whole = runOpBox(p, tilesFor(p, rc.inputs, wholeOutputBox(p)), wholeOutputBox(p));
    // Softmax rows are never split: no cuts on the last axis.
    const axisCuts = shape.map((n, ax) => (p.kind === 'SOFTMAX' && ax === shape.length - 1 ? fc.constant<number[]>([]) : cutsOf(n)));
    fc.assert(
      fc.property(fc.tuple(...axisCuts), (cuts) => {
        const stitched = new (whole.constructor as new (n: number) => TensorData)(whole.length);
        for (const box of gridBoxes(shape, cuts)) insertBox(stitched, shape, box, runOpBox(p, tilesFor(p, rc.inputs, box), box));
        expect(stitched).toEqual(whole);
      }),
      { numRuns: 15 },
    );
  });

  const fcCases = cases.filter((c) => c.graph.ops[0].kind === 'FULLY_CONNECTED');
  it.each(fcCases.map((c) => [c.id, c] as const))('%s, units x batches grid and depth split into partial sums', (_id, rc) => {
    const p = prepareOp(rc.graph, 0) as FullyConnectedParams;
    const whole = runOpBox(p, tilesFor(p, rc.inputs, wholeOutputBox(p)), wholeOutputBox(p));
    fc.assert(
      fc.property(cutsOf(p.batches), cutsOf(p.units), cutsOf(p.depth), (bc, uc, dc) => {
        const stitched = new Int8Array(whole.length);
        const depths = [0, ...dc, p.depth];
        for (const box of gridBoxes([p.batches, p.units], [bc, uc])) {
          const parts = depths.slice(1).map((d1, i) => {
            const range: [number, number] = [depths[i], d1];
            return fcPartialSums(p, tilesFor(p, rc.inputs, box, range)[0], box, range);
          });
          insertBox(stitched, [p.batches, p.units], box, fcFinish(p, fcReduce(parts), box));
        }
        expect(stitched).toEqual(whole);
      }),
      { numRuns: 15 },
    );
  });
});

describe('bad fragments are refused, never answered wrongly', () => {
  const conv = byName('EdgeConvReluN1To1Clamp'); // 3x3 SAME on 1x4x4x3
  const p = prepareOp(conv.graph, 0);
  const box: Box = { start: [0, 1, 0, 0], end: [1, 3, 4, 2] };

  it('a tile one halo row short', () => {
    const [need] = neededBoxes(p, box);
    const short: Box = { start: need.start, end: [need.end[0], need.end[1] - 1, need.end[2], need.end[3]] };
    const tile: Tile = { data: extractBox(conv.inputs[0], [1, 4, 4, 3], short), origin: short.start, shape: [1, 3, 4, 3] };
    expect(need.end[1]).toBe(4); // output rows 1..2 read input rows 0..3
    expect(() => runOpBox(p, [tile], box)).toThrow(/CONV_2D \(op 0\) input: element \[0,3,0,0\] is needed for the box but lies outside the tile at \[0,0,0,0\] of shape \[1,3,4,3\]/);
  });

  it('a tile missing input channels', () => {
    const tile: Tile = { data: extractBox(conv.inputs[0], [1, 4, 4, 3], { start: [0, 0, 0, 0], end: [1, 4, 4, 2] }), origin: [0, 0, 0, 0], shape: [1, 4, 4, 2] };
    expect(() => runOpBox(p, [tile], box)).toThrow(/axis 3 range \[0, 3\) is needed/);
  });

  it('a box outside the output', () => {
    const outside: Box = { start: [0, 3, 0, 0], end: [1, 5, 4, 2] };
    expect(() => runOpBox(p, tilesFor(p, conv.inputs, wholeOutputBox(p)), outside)).toThrow(/box \[0,3,0,0\]..\[1,5,4,2\] is not inside the output \[1,4,4,2\]/);
  });

  it('a tile whose data does not match its shape', () => {
    const tile: Tile = { data: new Int8Array(5), origin: [0, 0, 0, 0], shape: [1, 4, 4, 3] };
    expect(() => runOpBox(p, [tile], box)).toThrow(/has 5 values, expected 48/);
  });

  it('a softmax box splitting a row', () => {
    const sm = byName('Softmax2DQuantizedInt8ShouldMatchGolden');
    const ps = prepareOp(sm.graph, 0);
    const half: Box = { start: [0, 0], end: [2, 3] };
    expect(() => runOpBox(ps, tilesFor(ps, sm.inputs, wholeOutputBox(ps)), half)).toThrow(/whole rows/);
  });

  it('an FC depth range beyond the input', () => {
    const f = byName('SimpleTestQuantizedInt8');
    const pf = prepareOp(f.graph, 0) as FullyConnectedParams;
    const all = wholeOutputBox(pf);
    expect(() => fcPartialSums(pf, tilesFor(pf, f.inputs, all)[0], all, [5, 11])).toThrow(/depth range \[5, 11\) is not inside \[0, 10\)/);
  });

  it('the wrong number of tiles', () => {
    const a = byName('QuantizedAddNoActivationInt8');
    const pa = prepareOp(a.graph, 0);
    expect(() => runOpBox(pa, tilesFor(pa, a.inputs, wholeOutputBox(pa)).slice(0, 1), wholeOutputBox(pa))).toThrow(/1 input tiles given, expected 2/);
  });
});
