// Boxes of an output and tiles of an input, in absolute tensor coordinates.
// A box is what a fragment computes; a tile is the part of an input tensor a
// fragment was given (its halo included). Kernels iterate the box in
// absolute coordinates and reach the tile through its origin, so a box's
// values equal the same slice of the whole result.

import type { TensorData } from '../ir.ts';

/** A sub-box of a tensor: its data (row-major in `shape`) and where it starts in the full tensor. */
export interface Tile {
  data: TensorData;
  origin: number[];
  shape: number[];
}

/** A half-open box [start, end) of a tensor, one entry per axis: the one Box type of the host. */
export interface Box {
  start: number[];
  end: number[];
}

export function boxShape(box: Box): number[] {
  return box.start.map((s, i) => box.end[i] - s);
}

export function fullBox(shape: readonly number[]): Box {
  return { start: shape.map(() => 0), end: [...shape] };
}

export function wholeTile(data: TensorData, shape: readonly number[]): Tile {
  return { data, origin: shape.map(() => 0), shape: [...shape] };
}

/** Checks that `box` lies within an output of `shape`; returns the box's own shape. */
export function checkBox(label: string, box: Box, shape: readonly number[]): number[] {
  const ok =
    box.start.length === shape.length &&
    box.end.length === shape.length &&
    box.start.every((s, i) => Number.isInteger(s) && Number.isInteger(box.end[i]) && s >= 0 && s <= box.end[i] && box.end[i] <= shape[i]);
  if (!ok) throw new RangeError(`${label}: box [${box.start}]..[${box.end}] is not inside the output [${shape}]`);
  return boxShape(box);
}

/** Reads a tile by absolute coordinates of the full tensor; any read outside the tile throws. */
export class TileView {
  readonly data: TensorData;
  private readonly origin: number[];
  private readonly shape: number[];
  /** Row-major strides of the tile. */
  readonly strides: number[];

  constructor(
    private readonly label: string,
    tile: Tile,
    fullShape: readonly number[],
  ) {
    const { origin, shape, data } = tile;
    const inside =
      origin.length === fullShape.length &&
      shape.length === fullShape.length &&
      origin.every((o, i) => Number.isInteger(o) && o >= 0 && Number.isInteger(shape[i]) && shape[i] >= 0 && o + shape[i] <= fullShape[i]);
    if (!inside) throw new RangeError(`${label}: tile at [${origin}] of shape [${shape}] is not inside the input [${fullShape}]`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new RangeError(`${label}: tile of shape [${shape}] has ${data.length} values, expected ${size}`);
    this.data = data;
    this.origin = origin;
    this.shape = shape;
    this.strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  }

  /** Whether absolute coordinate `v` on `axis` is inside the tile. */
  covers(axis: number, v: number): boolean {
    const r = v - this.origin[axis];
    return r >= 0 && r < this.shape[axis];
  }

  /** Throws unless the absolute range [lo, hi) on `axis` is inside the tile. */
  requireRange(axis: number, lo: number, hi: number): void {
    if (hi > lo && !(this.covers(axis, lo) && this.covers(axis, hi - 1))) this.outside(`axis ${axis} range [${lo}, ${hi})`);
  }

  /** Flat index of an absolute coordinate (one entry per axis). */
  index(coords: readonly number[]): number {
    let idx = 0;
    for (let i = 0; i < coords.length; i++) {
      const r = coords[i] - this.origin[i];
      if (r < 0 || r >= this.shape[i]) this.outside(`element [${coords}]`);
      idx += r * this.strides[i];
    }
    return idx;
  }

  private outside(what: string): never {
    throw new RangeError(
      `${this.label}: ${what} is needed for the box but lies outside the tile at [${this.origin}] of shape [${this.shape}]`,
    );
  }
}

/** Steps `coord` to the next coordinate of `box` in row-major order (wrapping to the start after the last). */
export function advance(coord: number[], box: Box): void {
  for (let ax = coord.length - 1; ax >= 0; ax--) {
    if (++coord[ax] < box.end[ax]) return;
    coord[ax] = box.start[ax];
  }
}
