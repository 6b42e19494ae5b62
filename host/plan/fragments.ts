// Geometry of fragments: boxes of a tensor, the input tile (halo included) an
// op needs for an output box, its propagation back through a fused stack of
// conv/depthwise/pool layers (DeepThings' fused tiles), and the partitions of a
// stage's output into rows, columns, grids or channels.
import { convOutSize, numElements, padOffset, type Graph, type Op } from '../model/ir.ts';
import { fullBox, type Box } from '../model/oracle/tile.ts';

export type { Box };
export { fullBox };

export function boxVolume(b: Box): number {
  return b.start.reduce((v, lo, i) => v * Math.max(0, b.end[i] - lo), 1);
}

/** Ops whose output a device computes from a tile of one activation input. */
const SPATIAL = new Set<Op['kind']>(['CONV_2D', 'DEPTHWISE_CONV_2D', 'MAX_POOL_2D', 'AVERAGE_POOL_2D']);
/** Ops the gateway performs itself: pure copies or float edges. */
const GATEWAY = new Set<Op['kind']>(['RESHAPE', 'QUANTIZE', 'DEQUANTIZE']);

export function isSpatial(op: Op): boolean {
  return SPATIAL.has(op.kind);
}

export function runsOnGateway(op: Op): boolean {
  return GATEWAY.has(op.kind);
}

/** Input rows (or columns) [lo, hi) that outputs [a, b) read, clamped to [0, size). */
function window(a: number, b: number, stride: number, k: number, dilation: number, pad: number, size: number): [number, number] {
  if (b <= a) return [0, 0];
  // Declared outputs may exceed the padding formula (TFLM loops over them), so
  // a window can lie wholly outside the input: it then reads nothing.
  const lo = Math.min(size, Math.max(0, a * stride - pad));
  const hi = Math.max(lo, Math.min(size, (b - 1) * stride - pad + (k - 1) * dilation + 1));
  return [lo, hi];
}

interface Window2D {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
}

function window2D(g: Graph, op: Op): Window2D {
  switch (op.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const w = g.tensors[op.inputs[1]].shape;
      return { kh: w[1], kw: w[2], sh: op.strideH, sw: op.strideW, dh: op.dilationH, dw: op.dilationW };
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
      return { kh: op.filterH, kw: op.filterW, sh: op.strideH, sw: op.strideW, dh: 1, dw: 1 };
    default:
      throw new Error(`op kind ${op.kind} has no spatial window`);
  }
}

/**
 * The input boxes an op reads to produce `out` (a box of its output), one per
 * entry of op.inputs: null for constants and absent inputs.
 */
export function inputTiles(g: Graph, opIndex: number, out: Box): (Box | null)[] {
  const op = g.ops[opIndex];
  const T = g.tensors;
  const tiles: (Box | null)[] = op.inputs.map(() => null);
  const x = inputView(g, opIndex);
  switch (op.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const w = window2D(g, op);
      // The same padding rule as op-params.ts: from the formula's output size, not the declared one.
      const padH = padOffset(x[1], convOutSize(x[1], w.kh, w.sh, w.dh, op.padding), w.kh, w.sh, w.dh);
      const padW = padOffset(x[2], convOutSize(x[2], w.kw, w.sw, w.dw, op.padding), w.kw, w.sw, w.dw);
      const [y0, y1] = window(out.start[1], out.end[1], w.sh, w.kh, w.dh, padH, x[1]);
      const [x0, x1] = window(out.start[2], out.end[2], w.sw, w.kw, w.dw, padW, x[2]);
      let c: [number, number] = [out.start[3], out.end[3]];
      if (op.kind === 'CONV_2D') c = [0, x[3]];
      if (op.kind === 'DEPTHWISE_CONV_2D')
        c = [Math.floor(out.start[3] / op.depthMultiplier), Math.floor((out.end[3] - 1) / op.depthMultiplier) + 1];
      tiles[0] = { start: [out.start[0], y0, x0, c[0]], end: [out.end[0], y1, x1, c[1]] };
      break;
    }
    case 'ADD':
      // Broadcasting: a dimension of size 1 is read whole; others follow the box.
      for (const k of [0, 1]) {
        const s = T[op.inputs[k]].shape;
        if (op.inputs[k] < 0 || T[op.inputs[k]].data) continue;
        const off = out.start.length - s.length;
        tiles[k] = {
          start: s.map((d, i) => (d === 1 ? 0 : out.start[i + off])),
          end: s.map((d, i) => (d === 1 ? 1 : out.end[i + off])),
        };
      }
      break;
    case 'FULLY_CONNECTED':
    case 'SOFTMAX':
    case 'RESHAPE':
    case 'QUANTIZE':
    case 'DEQUANTIZE':
      // Every output neuron reads the whole input; softmax reduces over its row.
      tiles[0] = op.kind === 'SOFTMAX' ? { start: [...out.start], end: [...out.end] } : fullBox(inputView(g, opIndex));
      break;
  }
  return tiles;
}

/**
 * The shape in which an op's output boxes are given: the tensor's own shape,
 * except FULLY_CONNECTED, whose boxes live in its [batches, units] view (as the
 * oracle and kernels take them).
 */
export function outputView(g: Graph, opIndex: number): number[] {
  const op = g.ops[opIndex];
  if (op.kind !== 'FULLY_CONNECTED') return [...g.tensors[op.outputs[0]].shape];
  const units = g.tensors[op.inputs[1]].shape[0];
  return [numElements(g.tensors[op.outputs[0]].shape) / units, units];
}

/** The shape in which an op's first input tile is given ([batches, depth] for FULLY_CONNECTED). */
export function inputView(g: Graph, opIndex: number): number[] {
  const op = g.ops[opIndex];
  const x = g.tensors[op.inputs[0]].shape;
  if (op.kind !== 'FULLY_CONNECTED') return [...x];
  const depth = g.tensors[op.inputs[1]].shape[1];
  return [numElements(x) / depth, depth];
}

/** One op of a fragment: the box of its output it computes and the tiles it reads. */
export interface OpBox {
  op: number;
  out: Box;
  tiles: (Box | null)[];
}

/**
 * Walks a fused stack backwards from the box of the last op's output: each
 * op computes exactly the rows/columns the next one reads (its halo), so no
 * exchange is needed inside the stack. Returns the ops in execution order.
 */
export function fuseBackward(g: Graph, ops: readonly number[], out: Box): OpBox[] {
  const result: OpBox[] = [];
  let box = out;
  for (let i = ops.length - 1; i >= 0; i--) {
    const tiles = inputTiles(g, ops[i], box);
    result.push({ op: ops[i], out: box, tiles });
    if (i > 0) box = tiles[0]!;
  }
  return result.reverse();
}

/**
 * Splits n units into parts proportional to `shares` (largest remainder).
 * Parts may be empty when n is smaller than the number of shares.
 */
export function splitRange(n: number, shares: readonly number[]): [number, number][] {
  const total = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((s) => (n * s) / total);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    counts[i]++;
    left--;
  }
  const ranges: [number, number][] = [];
  let at = 0;
  for (const c of counts) {
    ranges.push([at, at + c]);
    at += c;
  }
  return ranges;
}

/** How a stage's output is divided among its fragments. */
export type SplitMode = 'rows' | 'channels' | 'grid' | 'whole';

/** Boxes along one axis, proportional to shares (empty parts kept, so index = share index). */
export function axisBoxes(shape: readonly number[], axis: number, shares: readonly number[]): Box[] {
  return splitRange(shape[axis], shares).map(([a, b]) => {
    const box = fullBox(shape);
    box.start[axis] = a;
    box.end[axis] = b;
    return box;
  });
}

/** An n x m grid over rows and columns of an NHWC shape, row-major. */
export function gridBoxes(shape: readonly number[], n: number, m: number): Box[] {
  const rows = splitRange(shape[1], Array(n).fill(1));
  const cols = splitRange(shape[2], Array(m).fill(1));
  return rows.flatMap(([y0, y1]) =>
    cols.map(([x0, x1]) => ({ start: [0, y0, x0, 0], end: [shape[0], y1, x1, shape[3]] })),
  );
}

/** The most square n x m grid with n * m = count (a prime count gives 1 x count). */
export function gridShape(count: number): [number, number] {
  let n = Math.floor(Math.sqrt(count));
  while (count % n !== 0) n--;
  return [n, count / n];
}
