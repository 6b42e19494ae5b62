// Moving boxes in and out of row-major tensors: the gateway cuts input tiles
// (halo included) out of whole tensors and stitches returned output boxes back.
import type { TensorData } from '../model/ir.ts';
import { boxShape, type Box } from '../model/oracle/tile.ts';

export { boxShape, type Box };

export function boxElements(box: Box): number {
  return boxShape(box).reduce((a, b) => a * b, 1);
}

function checkBox(shape: readonly number[], box: Box): void {
  const ok =
    box.start.length === shape.length &&
    box.end.length === shape.length &&
    box.start.every((s, i) => Number.isInteger(s) && s >= 0 && s <= box.end[i] && box.end[i] <= shape[i]);
  if (!ok) throw new RangeError(`box [${box.start}]..[${box.end}] does not fit a tensor of shape [${shape}]`);
}

/**
 * Calls `fn(srcOffset, dstOffset, runLength)` for every contiguous run of the
 * box's innermost axis, mapping `outer` (the whole tensor) to `inner` (the
 * dense box).
 */
function forEachRun(shape: readonly number[], box: Box, fn: (outer: number, inner: number, len: number) => void): void {
  checkBox(shape, box);
  const rank = shape.length;
  if (rank === 0) return fn(0, 0, 1); // a scalar is one run of one value
  const ext = boxShape(box);
  if (ext.some((e) => e === 0)) return;
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  const len = ext[rank - 1];
  const idx = box.start.slice();
  let inner = 0;
  for (;;) {
    let outer = 0;
    for (let i = 0; i < rank; i++) outer += idx[i] * strides[i];
    fn(outer, inner, len);
    inner += len;
    let axis = rank - 2;
    while (axis >= 0) {
      idx[axis]++;
      if (idx[axis] < box.end[axis]) break;
      idx[axis] = box.start[axis];
      axis--;
    }
    if (axis < 0) return;
  }
}

/** Copies `box` out of a whole tensor into a new dense array of the same type. */
export function extractBox<T extends TensorData>(data: T, shape: readonly number[], box: Box): T {
  const out = new (data.constructor as new (n: number) => T)(boxElements(box));
  forEachRun(shape, box, (outer, inner, len) => out.set(data.subarray(outer, outer + len) as never, inner));
  return out;
}

/** Writes a dense box back into a whole tensor. */
export function insertBox(target: TensorData, shape: readonly number[], box: Box, values: TensorData): void {
  if (values.length !== boxElements(box))
    throw new RangeError(`box [${box.start}]..[${box.end}] holds ${boxElements(box)} values, got ${values.length}`);
  forEachRun(shape, box, (outer, inner, len) => target.set(values.subarray(inner, inner + len) as never, outer));
}
