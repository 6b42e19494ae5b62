// Host side of the kernel ABI (assembly/kernels/ABI.md): packs an op's
// prepared parameters into the op record + constants blob the AS kernels
// read (header words here, the op's own words by its descriptor in ops/), and
// a fragment call into the call block. The word indices come from
// spec/abi.json through abi.generated.ts, as the kernels' do.

import type { OpParams } from '../model/op-params.ts';
import type { Box } from '../model/oracle/tile.ts';

import { ABI_HASH, ABI_MAGIC, CALL_WORDS, W, C, MODE, KERNEL_ERRORS } from './abi.generated.ts';
import { describe } from './ops/table.ts';
import { RecordWriter, shape4, type Slice } from './record.ts';

export { recordBytes, shape4, type Slice } from './record.ts';

export { KERNEL_ABI_VERSION, ABI_MAGIC, RECORD_WORDS, RECORD_BYTES, CALL_WORDS, CALL_BYTES, W, C, OPCODE, KERNEL_ERRORS } from './abi.generated.ts';

export const MODE_RUN = MODE.RUN;
export const MODE_FC_REDUCE = MODE.FC_REDUCE;

export type KernelErrorName = (typeof KERNEL_ERRORS)[number];
export const KERNEL_ERROR = Object.fromEntries(KERNEL_ERRORS.map((n, i) => [n, i])) as Record<KernelErrorName, number>;

export function kernelErrorName(code: number): string {
  return KERNEL_ERRORS[code] ?? `UNKNOWN_${code}`;
}

/** The ABI hash of spec/abi.json; the kernels module's kernelAbiHash() and a device's HELLO must report it. */
export const KERNEL_ABI_HASH = ABI_HASH;

/** Ops the kernels run (RESHAPE and float QUANTIZE/DEQUANTIZE are host-side). */
export type KernelOpParams = Exclude<OpParams, { kind: 'RESHAPE' | 'DEQUANTIZE' } | { kind: 'QUANTIZE'; from: 'float32' }>;

export function isKernelOp(p: OpParams): p is KernelOpParams {
  return describe(p).runsOnDevice(p);
}

/** A view in the record's 4 words: right-aligned, or left-aligned where the op says (FC's 2-D views). */
function words4(p: KernelOpParams, view: readonly number[]): number[] {
  if (!describe(p).alignLeft) return shape4(view);
  if (view.length > 4) throw new RangeError(`shape [${view}] has more than 4 dimensions`);
  return [...view, ...Array(4 - view.length).fill(1)];
}

/** The record's 4-word output shape: the space boxes are given in. */
export function outputShape4(p: KernelOpParams): number[] {
  return words4(p, describe(p).outputView(p));
}

/** The record's 4-word shape of data input k: the space tiles are given in. */
export function inputShape4(p: KernelOpParams, k: number): number[] {
  return words4(p, describe(p).inputView(p, k));
}

/** Right-aligns a box of rank <= 4 (pads [0, 1) on the left); FC's 2-D boxes pad on the right. */
export function box4(p: KernelOpParams, box: Box): Box {
  if (describe(p).alignLeft) {
    if (box.start.length !== 2) throw new RangeError(`${p.kind} (op ${p.opIndex}): boxes are 2-D [batches, units], got rank ${box.start.length}`);
    return { start: [...box.start, 0, 0], end: [...box.end, 1, 1] };
  }
  const pad = 4 - box.start.length;
  if (pad < 0) throw new RangeError(`${p.kind} (op ${p.opIndex}): box of rank ${box.start.length} has more than 4 dimensions`);
  return { start: [...Array(pad).fill(0), ...box.start], end: [...Array(pad).fill(1), ...box.end] };
}

/**
 * A tile's origin and extent in the record's 4-word input space. FC tiles are
 * given in the [batches, depth] view, or as the whole input in its own rank.
 */
export function tile4(p: KernelOpParams, k: number, origin: readonly number[], extent: readonly number[]): { origin: number[]; extent: number[] } {
  const full = inputShape4(p, k);
  if (p.kind === 'FULLY_CONNECTED') {
    if (origin.length === 2) return { origin: [...origin, 0, 0], extent: [...extent, 1, 1] };
    const whole = origin.every((o) => o === 0) && extent.join() === p.inputShape.join();
    if (!whole) throw new RangeError(`${p.kind} (op ${p.opIndex}): a tile of rank ${origin.length} must be the whole input; give FC tiles as [batches, depth]`);
    return { origin: [0, 0, 0, 0], extent: full };
  }
  const pad = 4 - origin.length;
  if (pad < 0) throw new RangeError(`${p.kind} (op ${p.opIndex}): tile of rank ${origin.length} has more than 4 dimensions`);
  return { origin: [...Array(pad).fill(0), ...origin], extent: [...Array(pad).fill(1), ...extent] };
}

/**
 * The op record + constants blob of op `p`, holding the weights and per-channel
 * constants of `slice` only (default: the whole op). The blob is relocatable;
 * `prepareRecord` must run on it in linear memory before `runFragment`.
 */
export function packOp(p: OpParams, slice: Slice = {}): Uint8Array {
  if (!isKernelOp(p)) throw new RangeError(`${p.kind} (op ${p.opIndex}) is not a kernel op: it runs host-side`);
  const d = describe(p);
  const rec = new RecordWriter();
  rec.set(W.MAGIC, ABI_MAGIC);
  rec.set(W.OPCODE, d.opcode!(p.kind));
  rec.setShape(W.IN_SHAPE, inputShape4(p, 0));
  rec.setShape(W.OUT_SHAPE, outputShape4(p));
  d.pack!(rec, p, slice, `${p.kind} (op ${p.opIndex})`);
  return rec.finish();
}

/** Where an input tile lies in linear memory and which part of its full (4-word) input it holds. */
export interface TileRef {
  offset: number;
  origin: number[];
  extent: number[];
}

export interface CallDesc {
  out: number;
  outBytes: number;
  /** 4-word box (see box4). */
  box: Box;
  in0: TileRef;
  in1?: TileRef;
  /** FC: the input-depth range summed (default: the whole depth). */
  depth?: [number, number];
  /** FC_REDUCE: number of partial-sum arrays at in0.offset. */
  reduceParts?: number;
}

/** The call block of one fragment. */
export function packCall(c: CallDesc): Uint8Array {
  const w = new Int32Array(CALL_WORDS);
  w[C.OUT] = c.out;
  w[C.OUT_BYTES] = c.outBytes;
  w.set(c.box.start, C.BOX_START);
  w.set(c.box.end, C.BOX_END);
  w[C.IN0] = c.in0.offset;
  w.set(c.in0.origin, C.IN0_ORIGIN);
  w.set(c.in0.extent, C.IN0_EXTENT);
  if (c.in1) {
    w[C.IN1] = c.in1.offset;
    w.set(c.in1.origin, C.IN1_ORIGIN);
    w.set(c.in1.extent, C.IN1_EXTENT);
  }
  if (c.depth) {
    w[C.DEPTH_START] = c.depth[0];
    w[C.DEPTH_END] = c.depth[1];
  }
  if (c.reduceParts !== undefined) {
    w[C.MODE] = MODE_FC_REDUCE;
    w[C.PARTS] = c.reduceParts;
  }
  return new Uint8Array(w.buffer);
}

/**
 * The smallest tile of data input k the kernels accept for `box` (halo
 * included), in the input's own coordinates (FC: the [batches, depth] view;
 * `depth` is FC's summed range). Boxes use the conventions of runFragment.
 */
export function requiredTile(p: KernelOpParams, k: number, box: Box, depth?: [number, number]): { origin: number[]; shape: number[] } {
  const t = describe(p).inputTile(p, k, box, depth);
  return { origin: t.start, shape: t.end.map((e, i) => e - t.start[i]) };
}
