// Geometry of fragments: boxes of a tensor, the input tile (halo included) an
// op needs for an output box, its propagation back through a fused stack of
// conv/depthwise/pool layers (DeepThings' fused tiles), and the partitions of a
// stage's output into rows, columns, grids or channels.
import type { SplitMode } from '../abi/ops/descriptor.ts';
import { boxVolume, describe, runsOnDevice } from '../abi/ops/table.ts';
import { geometryOf } from '../model/ops/table.ts';
import type { Graph } from '../model/ir.ts';
import { fullBox, type Box } from '../model/oracle/tile.ts';

export type { Box, SplitMode };
export { fullBox };

export { boxVolume };

/** Ops whose output a device computes from a window over one activation tile. */
export function isSpatial(g: Graph, opIndex: number): boolean {
  return describe(geometryOf(g, opIndex)).spatial;
}

/** How a stage of this op alone may be split besides 'whole' (the op table's rule). */
export function opSplits(g: Graph, opIndex: number): SplitMode[] {
  const o = geometryOf(g, opIndex);
  return describe(o).splits(o);
}

export function runsOnGateway(g: Graph, opIndex: number): boolean {
  return !runsOnDevice(g, opIndex);
}

/**
 * The input boxes an op reads to produce `out` (a box of its output), one per
 * entry of op.inputs: null for constants and absent inputs.
 */
export function inputTiles(g: Graph, opIndex: number, out: Box): (Box | null)[] {
  const op = g.ops[opIndex];
  const o = geometryOf(g, opIndex);
  const d = describe(o);
  return op.inputs.map((id, k) => (k < o.inputs.length && id >= 0 && !g.tensors[id].data ? d.inputTile(o, k, out) : null));
}

/**
 * The shape in which an op's output boxes are given: the tensor's own shape,
 * except FULLY_CONNECTED, whose boxes live in its [batches, units] view (as the
 * oracle and kernels take them).
 */
export function outputView(g: Graph, opIndex: number): number[] {
  const o = geometryOf(g, opIndex);
  return describe(o).outputView(o);
}

/** The shape in which an op's first input tile is given ([batches, depth] for FULLY_CONNECTED). */
export function inputView(g: Graph, opIndex: number): number[] {
  const o = geometryOf(g, opIndex);
  return describe(o).inputView(o, 0);
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
