// fast-check generators of one-op graphs for the kernel property tests, and
// the fragment runner that cuts an op's output into boxes, runs each box on
// the smallest input tile the kernels accept, and stitches the results.
import fc from 'fast-check';
import { convOutSize, broadcastShape, type Activation, type Graph, type Op, type Padding, type Tensor, type TensorData } from '../host/model/ir.ts';
import { validateGraph } from '../host/model/validate.ts';
import { prepareOp, type OpParams } from '../host/model/op-params.ts';
import { requiredTile, isKernelOp } from '../host/abi/kernel-abi.ts';
import type { WasmEngine } from '../host/run/wasm-engine.ts';
import { extractBox, insertBox, type Box } from '../host/run/boxes.ts';
import { runOpBox } from '../host/model/oracle.ts';
import { expect } from 'vitest';

/** One op, its data inputs and its prepared parameters. */
export interface OpCase {
  label: string;
  graph: Graph;
  inputs: TensorData[];
  params: OpParams;
}

const activation = fc.constantFrom<Activation>('NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1');
/** Zero points with the extremes over-represented. */
const zeroPoint = fc.oneof(fc.constantFrom(-128, 127, 0), fc.integer({ min: -128, max: 127 }));
/** A scale as 2^e with a random mantissa. */
const scale = (minExp: number, maxExp: number) =>
  fc.tuple(fc.double({ min: 1, max: 2, noNaN: true }), fc.integer({ min: minExp, max: maxExp })).map(([m, e]) => Math.fround(m * 2 ** e));
const int8s = (n: number) => fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n }).map((a) => Int8Array.from(a));
/** Effective scales (input * weight / output): mostly where every accumulator bit can reach the output,
 * sometimes above 1 (left shifts) or below 2^-32 (multiplier flushed to zero). */
const effectiveScales = (n: number) =>
  fc.array(fc.oneof({ arbitrary: scale(-9, 1), weight: 6 }, { arbitrary: scale(-40, -33), weight: 1 }), { minLength: n, maxLength: n });
/** Weight scales giving those effective scales. */
const weightScales = (eff: number[], inScale: number, outScale: number) => eff.map((e) => Math.fround((e * outScale) / inScale));
/** Values near the zero point: small accumulators, where every unit of the sum reaches the output. */
const nearZeroPoint = (n: number, zp: number) =>
  fc.array(fc.integer({ min: Math.max(-128, zp - 3), max: Math.min(127, zp + 3) }), { minLength: n, maxLength: n }).map((a) => Int8Array.from(a));
/** Input, weights and bias of a conv or FC: full-range values, or small ones (see nearZeroPoint). */
const operands = (small: boolean, nIn: number, zp: number, nW: number, nBias: number) =>
  fc.tuple(
    small ? nearZeroPoint(nIn, zp) : int8s(nIn),
    fc.array(fc.integer(small ? { min: -3, max: 3 } : { min: -127, max: 127 }), { minLength: nW, maxLength: nW }).map((a) => Int8Array.from(a)),
    fc.array(fc.integer(small ? { min: -20, max: 20 } : { min: -40000, max: 40000 }), { minLength: nBias, maxLength: nBias }).map((a) => Int32Array.from(a)),
  );

function oneOp(label: string, tensors: Tensor[], op: Op, inputs: number[], data: TensorData[]): OpCase {
  const graph = validateGraph({ name: label, tensors, ops: [op], inputs, outputs: op.outputs });
  return { label, graph, inputs: data, params: prepareOp(graph, 0) };
}

const act = (name: string, shape: number[], s: number, zp: number): Tensor => ({ name, shape, dtype: 'int8', quant: { scale: [s], zeroPoint: [zp] } });

/** Input geometry of a windowed op: small sizes, kernels that may exceed the input, strides that may exceed the kernel. */
const windowGeometry = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  kh: fc.integer({ min: 1, max: 4 }),
  kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  padding: fc.constantFrom<Padding>('SAME', 'VALID'),
});

/** VALID that leaves no output becomes SAME. */
function padOf(g: { h: number; w: number; kh: number; kw: number; sh: number; sw: number; padding: Padding }, dh: number, dw: number): Padding {
  return convOutSize(g.h, g.kh, g.sh, dh, g.padding) < 1 || convOutSize(g.w, g.kw, g.sw, dw, g.padding) < 1 ? 'SAME' : g.padding;
}

/** CONV_2D or DEPTHWISE_CONV_2D with per-channel (or per-tensor) scales whose multipliers range from flushed to > 1. */
export const convCase = (kind: 'CONV_2D' | 'DEPTHWISE_CONV_2D'): fc.Arbitrary<OpCase> =>
  fc
    .record({
      g: windowGeometry,
      dh: fc.integer({ min: 1, max: 2 }),
      dw: fc.integer({ min: 1, max: 2 }),
      cin: fc.integer({ min: 1, max: 6 }),
      cout: fc.integer({ min: 1, max: 7 }),
      dm: fc.integer({ min: 1, max: 3 }),
      perTensor: fc.boolean(),
      inZp: zeroPoint,
      outZp: zeroPoint,
      inScale: scale(-8, 0),
      outScale: scale(-6, 2),
      act: activation,
      withBias: fc.boolean(),
      small: fc.boolean(),
    })
    .chain((r) => {
      const cout = kind === 'CONV_2D' ? r.cout : r.cin * r.dm;
      const fshape = kind === 'CONV_2D' ? [cout, r.g.kh, r.g.kw, r.cin] : [1, r.g.kh, r.g.kw, cout];
      const nW = fshape.reduce((a, b) => a * b, 1);
      const eff = effectiveScales(r.perTensor ? 1 : cout);
      return fc.tuple(fc.constant(r), fc.constant(fshape), operands(r.small, r.g.n * r.g.h * r.g.w * r.cin, r.inZp, nW, cout), eff);
    })
    .map(([r, fshape, [x, w, b], eff]) => {
      const { g } = r;
      const ws = weightScales(eff, r.inScale, r.outScale);
      const padding = padOf(g, r.dh, r.dw);
      const cout = fshape[kind === 'CONV_2D' ? 0 : 3];
      const oh = convOutSize(g.h, g.kh, g.sh, r.dh, padding);
      const ow = convOutSize(g.w, g.kw, g.sw, r.dw, padding);
      const tensors: Tensor[] = [
        act('x', [g.n, g.h, g.w, r.cin], r.inScale, r.inZp),
        { name: 'w', shape: fshape, dtype: 'int8', quant: { scale: ws, zeroPoint: ws.map(() => 0), axis: kind === 'CONV_2D' ? 0 : 3 }, data: w },
        { name: 'b', shape: [cout], dtype: 'int32', data: b },
        act('y', [g.n, oh, ow, cout], r.outScale, r.outZp),
      ];
      const common = { inputs: [0, 1, r.withBias ? 2 : -1], outputs: [3], padding, strideH: g.sh, strideW: g.sw, dilationH: r.dh, dilationW: r.dw, activation: r.act };
      const op: Op = kind === 'CONV_2D' ? { kind, ...common } : { kind, ...common, depthMultiplier: r.dm };
      const label = `${kind} ${g.n}x${g.h}x${g.w}x${r.cin} k${g.kh}x${g.kw} s${g.sh}x${g.sw} d${r.dh}x${r.dw} ${padding} -> ${cout}`;
      return oneOp(label, tensors, op, [0], [x]);
    });

export const fcCase: fc.Arbitrary<OpCase> = fc
  .record({
    batches: fc.integer({ min: 1, max: 3 }),
    depth: fc.integer({ min: 1, max: 40 }),
    units: fc.integer({ min: 1, max: 13 }),
    perChannel: fc.boolean(),
    inZp: zeroPoint,
    outZp: zeroPoint,
    inScale: scale(-8, 0),
    outScale: scale(-6, 2),
    act: activation,
    withBias: fc.boolean(),
    small: fc.boolean(),
  })
  .chain((r) =>
    fc.tuple(
      fc.constant(r),
      operands(r.small, r.batches * r.depth, r.inZp, r.units * r.depth, r.units),
      effectiveScales(r.perChannel ? r.units : 1),
    ),
  )
  .map(([r, [x, w, b], eff]) => {
    const ws = weightScales(eff, r.inScale, r.outScale);
    const tensors: Tensor[] = [
      act('x', [r.batches, r.depth], r.inScale, r.inZp),
      { name: 'w', shape: [r.units, r.depth], dtype: 'int8', quant: { scale: ws, zeroPoint: ws.map(() => 0), axis: 0 }, data: w },
      { name: 'b', shape: [r.units], dtype: 'int32', data: b },
      act('y', [r.batches, r.units], r.outScale, r.outZp),
    ];
    const op: Op = { kind: 'FULLY_CONNECTED', inputs: [0, 1, r.withBias ? 2 : -1], outputs: [3], activation: r.act, keepNumDims: false };
    return oneOp(`FULLY_CONNECTED ${r.batches}x${r.depth} -> ${r.units} ${r.perChannel ? 'per-channel' : 'per-tensor'}`, tensors, op, [0], [x]);
  });

export const poolCase = (kind: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): fc.Arbitrary<OpCase> =>
  fc
    .record({ g: windowGeometry, c: fc.integer({ min: 1, max: 6 }), zp: zeroPoint, s: scale(-8, 0), act: activation })
    .chain((r) => fc.tuple(fc.constant(r), int8s(r.g.n * r.g.h * r.g.w * r.c)))
    .map(([r, x]) => {
      const { g } = r;
      const padding = padOf(g, 1, 1);
      const oh = convOutSize(g.h, g.kh, g.sh, 1, padding);
      const ow = convOutSize(g.w, g.kw, g.sw, 1, padding);
      const tensors = [act('x', [g.n, g.h, g.w, r.c], r.s, r.zp), act('y', [g.n, oh, ow, r.c], r.s, r.zp)];
      const op: Op = { kind, inputs: [0], outputs: [1], padding, strideH: g.sh, strideW: g.sw, filterH: g.kh, filterW: g.kw, activation: r.act };
      return oneOp(`${kind} ${g.n}x${g.h}x${g.w}x${r.c} k${g.kh}x${g.kw} s${g.sh}x${g.sw} ${padding}`, tensors, op, [0], [x]);
    });

/** An output shape of rank 1..4 and, per input, a broadcastable shape (axes set to 1, leading axes dropped). */
const broadcastShapes = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
  .chain((out) => {
    const inShape = fc
      .tuple(fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), fc.integer({ min: 0, max: out.length }))
      .map(([ones, drop]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(fc.constant(out), inShape, inShape);
  });

export const addCase: fc.Arbitrary<OpCase> = fc
  .record({
    shapes: broadcastShapes,
    zps: fc.tuple(zeroPoint, zeroPoint, zeroPoint),
    s1: scale(-8, 0),
    ratio: scale(-10, 10),
    sOut: scale(-6, 1),
    act: activation,
  })
  .chain((r) => {
    const [, a, b] = r.shapes;
    const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
    return fc.tuple(fc.constant(r), int8s(n(a)), int8s(n(b)));
  })
  .map(([r, xa, xb]) => {
    const [, a, b] = r.shapes;
    // Axes where both inputs were set to 1 are 1 in the output too.
    const out = broadcastShape(a, b)!;
    const s2 = Math.fround(r.s1 * r.ratio);
    const tensors = [act('a', a, r.s1, r.zps[0]), act('b', b, s2, r.zps[1]), act('y', out, r.sOut, r.zps[2])];
    const op: Op = { kind: 'ADD', inputs: [0, 1], outputs: [2], activation: r.act };
    return oneOp(`ADD [${a}] + [${b}] -> [${out}]`, tensors, op, [0, 1], [xa, xb]);
  });

export const softmaxCase: fc.Arbitrary<OpCase> = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
    zp: zeroPoint,
    s: scale(-6, 1),
    beta: fc.constantFrom(0.5, 1, 2),
    int16: fc.boolean(),
  })
  .chain((r) => fc.tuple(fc.constant(r), int8s(r.shape.reduce((a, b) => a * b, 1))))
  .map(([r, x]) => {
    const out: Tensor = r.int16
      ? { name: 'y', shape: r.shape, dtype: 'int16', quant: { scale: [1 / 65536], zeroPoint: [-32768] } }
      : act('y', r.shape, 1 / 256, -128);
    const op: Op = { kind: 'SOFTMAX', inputs: [0], outputs: [1], beta: r.beta };
    return oneOp(`SOFTMAX [${r.shape}] -> ${out.dtype}`, [act('x', r.shape, r.s, r.zp), out], op, [0], [x]);
  });

export const requantizeCase: fc.Arbitrary<OpCase> = fc
  .record({ shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), zps: fc.tuple(zeroPoint, zeroPoint), s1: scale(-8, 0), s2: scale(-8, 0) })
  .chain((r) => fc.tuple(fc.constant(r), int8s(r.shape.reduce((a, b) => a * b, 1))))
  .map(([r, x]) => {
    const op: Op = { kind: 'QUANTIZE', inputs: [0], outputs: [1] };
    return oneOp(`QUANTIZE int8 [${r.shape}]`, [act('x', r.shape, r.s1, r.zps[0]), act('y', r.shape, r.s2, r.zps[1])], op, [0], [x]);
  });

/** Cut points (as fractions) per axis: a grid partition of the output. */
export const cuts = fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }), { minLength: 4, maxLength: 4 });

/** The boxes of a grid partition of `shape` along the given axes. */
export function gridBoxes(shape: readonly number[], fractions: number[][], axes: readonly number[]): Box[] {
  const intervals = shape.map((d, i) => {
    const at = axes.includes(i) ? (fractions[i] ?? []).map((f) => Math.floor(f * d)).filter((c) => c > 0 && c < d) : [];
    const points = [0, ...new Set(at.sort((a, b) => a - b)), d];
    return points.slice(1).map((e, k) => [points[k], e]);
  });
  let boxes: Box[] = [{ start: [], end: [] }];
  for (const iv of intervals)
    boxes = boxes.flatMap((b) => iv.map(([s, e]) => ({ start: [...b.start, s], end: [...b.end, e] })));
  return boxes;
}

/** The op's output space in runFragment's conventions (FC: [batches, units]). */
export function outputSpace(p: OpParams): number[] {
  return p.kind === 'FULLY_CONNECTED' ? [p.batches, p.units] : p.outputShape;
}

/** Shape of input k in runFragment's conventions (FC: [batches, depth]). */
export function inputSpace(c: OpCase, k: number): number[] {
  const p = c.params;
  return p.kind === 'FULLY_CONNECTED' ? [p.batches, p.depth] : c.graph.tensors[p.inputs[k]].shape;
}

/**
 * Runs every box on its required tile (cut from the whole inputs), checks
 * each against the oracle on the same tile, and stitches the outputs.
 */
export function runStitched(engine: WasmEngine, c: OpCase, boxes: Box[]): TensorData {
  const p = c.params;
  if (!isKernelOp(p)) throw new Error(`${c.label}: not a kernel op`);
  const runBox = (box: Box) => {
    const tiles = tilesFor(c, box);
    const got = engine.runFragment(p, tiles, box);
    expect(Array.from(got), `${c.label}: box [${box.start}]..[${box.end}] vs oracle on the same tile`).toEqual(Array.from(runOpBox(p, tiles, box)));
    return got;
  };
  const first = runBox(boxes[0]);
  // A scalar output is its one box.
  if (outputSpace(p).length === 0) return first;
  const out = new (first.constructor as new (n: number) => TensorData)(outputSpace(p).reduce((a, b) => a * b, 1));
  insertBox(out, outputSpace(p), boxes[0], first);
  for (const box of boxes.slice(1)) insertBox(out, outputSpace(p), box, runBox(box));
  return out;
}

/** The smallest accepted tile of every input for `box`, cut out of the case's whole inputs. */
export function tilesFor(c: OpCase, box: Box, depth?: [number, number]) {
  const p = c.params;
  if (!isKernelOp(p)) throw new Error(`${c.label}: not a kernel op`);
  return c.inputs.map((data, k) => {
    const t = requiredTile(p, k, box, depth);
    const whole = inputSpace(c, k);
    // A scalar (rank 0) input is its own tile.
    if (whole.length === 0) return { data: data.slice(), origin: [], shape: [] };
    return { data: extractBox(data, whole, { start: t.origin, end: t.origin.map((o, i) => o + t.shape[i]) }), origin: t.origin, shape: t.shape };
  });
}
