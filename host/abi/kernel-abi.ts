// Host side of the kernel ABI (assembly/kernels/ABI.md): packs an op's
// prepared parameters into the op record + constants blob the AS kernels
// read, and a fragment call into the call block. The word indices come from
// spec/abi.json through abi.generated.ts, as the kernels' do.

import type { OpParams, ConvParams, FullyConnectedParams } from '../model/op-params.ts';
import type { Box } from '../model/oracle/tile.ts';

import { ABI_HASH, ABI_MAGIC, RECORD_WORDS, RECORD_BYTES, CALL_WORDS, W, C, OPCODE, MODE, KERNEL_ERRORS } from './abi.generated.ts';

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
  return p.kind !== 'RESHAPE' && p.kind !== 'DEQUANTIZE' && !(p.kind === 'QUANTIZE' && p.from === 'float32');
}

/** Which constants a record holds: output channels (FC units) and, for FC, an input-depth range. */
export interface Slice {
  channels?: [number, number];
  depth?: [number, number];
}

/** Right-aligns a shape of rank <= 4 into 4 words padded with 1 (ADD, REQUANTIZE). */
export function shape4(shape: readonly number[]): number[] {
  if (shape.length > 4) throw new RangeError(`shape [${shape}] has more than 4 dimensions`);
  return [...Array(4 - shape.length).fill(1), ...shape];
}

/** Left-aligns FC's 2-D view into 4 words padded with 1. */
function view2(a: number, b: number): number[] {
  return [a, b, 1, 1];
}

/** The record's 4-word output shape: the space boxes are given in. */
export function outputShape4(p: KernelOpParams): number[] {
  switch (p.kind) {
    case 'FULLY_CONNECTED':
      return view2(p.batches, p.units);
    case 'ADD':
    case 'QUANTIZE':
    case 'SOFTMAX':
      return shape4(p.outputShape);
    default:
      return p.outputShape;
  }
}

/** The record's 4-word shape of data input k: the space tiles are given in. */
export function inputShape4(p: KernelOpParams, k: number): number[] {
  switch (p.kind) {
    case 'FULLY_CONNECTED':
      return view2(p.batches, p.depth);
    case 'ADD':
      return shape4(k === 0 ? p.input1Shape : p.input2Shape);
    case 'QUANTIZE':
    case 'SOFTMAX':
      return shape4(p.outputShape);
    default:
      return p.inputShape;
  }
}

/** Right-aligns a box of rank <= 4 (pads [0, 1) on the left); FC's 2-D boxes pad on the right. */
export function box4(p: KernelOpParams, box: Box): Box {
  if (p.kind === 'FULLY_CONNECTED') {
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

const align4 = (n: number) => (n + 3) & ~3;

/** Builder of a record blob: header words, then constants appended 4-aligned. */
class RecordWriter {
  readonly header = new Int32Array(RECORD_WORDS);
  private readonly chunks: Uint8Array[] = [];
  private size = RECORD_BYTES;

  set(w: number, v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new RangeError(`record word ${w}: ${v} is not a 32-bit integer`);
    this.header[w] = v | 0;
  }

  setShape(w: number, s: readonly number[]): void {
    s.forEach((d, i) => this.set(w + i, d));
  }

  /** Appends a constant and stores its record-relative offset in word w. */
  constant(w: number, bytes: Uint8Array): void {
    this.set(w, this.size);
    this.chunks.push(bytes);
    this.size += align4(bytes.length);
  }

  finish(): Uint8Array {
    this.set(W.SIZE, this.size);
    const blob = new Uint8Array(this.size);
    blob.set(new Uint8Array(this.header.buffer));
    let off = RECORD_BYTES;
    for (const c of this.chunks) {
      blob.set(c, off);
      off += align4(c.length);
    }
    return blob;
  }
}

const bytesOf = (a: Int8Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function checkRange(label: string, r: [number, number], limit: number): [number, number] {
  const [lo, hi] = r;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo < hi && hi <= limit))
    throw new RangeError(`${label} [${lo}, ${hi}) is not a non-empty range inside [0, ${limit})`);
  return r;
}

/** Per-channel int32 arrays of the slice: raw bias (zeros when absent), folded-bias space, multipliers, shifts. */
function channelConstants(rec: RecordWriter, p: ConvParams | FullyConnectedParams, lo: number, hi: number): void {
  const n = hi - lo;
  rec.set(W.CH_LO, lo);
  rec.set(W.CH_HI, hi);
  rec.constant(W.BIAS, bytesOf(p.bias ? p.bias.slice(lo, hi) : new Int32Array(n)));
  rec.constant(W.FOLDED, new Uint8Array(n * 4));
  rec.constant(W.MULT, bytesOf(p.multipliers.slice(lo, hi)));
  rec.constant(W.SHIFT, bytesOf(p.shifts.slice(lo, hi)));
}

/**
 * Bytes of the record packOp writes, without packing it: the header, the
 * weight slice and, for weighted ops, four int32 arrays per output channel
 * (bias, folded bias, multiplier, shift). The planner counts memory with it.
 */
export function recordBytes(channels: number, weightBytes: number): number {
  return RECORD_BYTES + (channels > 0 ? align4(weightBytes) + 16 * channels : 0);
}

/**
 * The op record + constants blob of op `p`, holding the weights and per-channel
 * constants of `slice` only (default: the whole op). The blob is relocatable;
 * `prepareRecord` must run on it in linear memory before `runFragment`.
 */
export function packOp(p: OpParams, slice: Slice = {}): Uint8Array {
  if (!isKernelOp(p)) throw new RangeError(`${p.kind} (op ${p.opIndex}) is not a kernel op: it runs host-side`);
  const label = `${p.kind} (op ${p.opIndex})`;
  const rec = new RecordWriter();
  rec.set(W.MAGIC, ABI_MAGIC);
  rec.set(W.OPCODE, p.kind === 'QUANTIZE' ? OPCODE.REQUANTIZE : OPCODE[p.kind]);
  rec.setShape(W.IN_SHAPE, inputShape4(p, 0));
  rec.setShape(W.OUT_SHAPE, outputShape4(p));
  switch (p.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const [, kh, kw, fc] = p.filterShape;
      const outC = p.outputShape[3];
      const [lo, hi] = checkRange(`${label}: channel slice`, slice.channels ?? [0, outC], outC);
      rec.set(W.KH, kh);
      rec.set(W.KW, kw);
      rec.set(W.STRIDE_H, p.strideH);
      rec.set(W.STRIDE_W, p.strideW);
      rec.set(W.DIL_H, p.dilationH);
      rec.set(W.DIL_W, p.dilationW);
      rec.set(W.PAD_TOP, p.padTop);
      rec.set(W.PAD_LEFT, p.padLeft);
      rec.set(W.DEPTH_MULT, p.depthMultiplier);
      rec.set(W.IN_ZP, p.inputZeroPoint);
      rec.set(W.OUT_ZP, p.outputZeroPoint);
      rec.set(W.ACT_MIN, p.actMin);
      rec.set(W.ACT_MAX, p.actMax);
      if (p.kind === 'CONV_2D') {
        rec.constant(W.WEIGHTS, bytesOf(p.filter.subarray(lo * kh * kw * fc, hi * kh * kw * fc)));
      } else {
        // Depthwise filter [1, kh, kw, outC]: keep the columns of the slice, [kh][kw][hi - lo].
        const n = hi - lo;
        const w = new Int8Array(kh * kw * n);
        for (let t = 0; t < kh * kw; t++) w.set(p.filter.subarray(t * outC + lo, t * outC + hi), t * n);
        rec.constant(W.WEIGHTS, bytesOf(w));
      }
      channelConstants(rec, p, lo, hi);
      break;
    }
    case 'FULLY_CONNECTED': {
      if (p.filterZeroPoint !== 0) throw new RangeError(`${label}: weight zero point ${p.filterZeroPoint}; the kernels need 0 (as TFLM asserts)`);
      const [lo, hi] = checkRange(`${label}: unit slice`, slice.channels ?? [0, p.units], p.units);
      const [d0, d1] = checkRange(`${label}: depth slice`, slice.depth ?? [0, p.depth], p.depth);
      const nd = d1 - d0;
      const w = new Int8Array((hi - lo) * nd);
      for (let u = lo; u < hi; u++) w.set(p.filter.subarray(u * p.depth + d0, u * p.depth + d1), (u - lo) * nd);
      rec.set(W.IN_ZP, p.inputZeroPoint);
      rec.set(W.OUT_ZP, p.outputZeroPoint);
      rec.set(W.ACT_MIN, p.actMin);
      rec.set(W.ACT_MAX, p.actMax);
      rec.set(W.DEPTH_LO, d0);
      rec.set(W.DEPTH_HI, d1);
      rec.constant(W.WEIGHTS, bytesOf(w));
      channelConstants(rec, p, lo, hi);
      break;
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
      rec.set(W.KH, p.filterH);
      rec.set(W.KW, p.filterW);
      rec.set(W.STRIDE_H, p.strideH);
      rec.set(W.STRIDE_W, p.strideW);
      rec.set(W.DIL_H, 1);
      rec.set(W.DIL_W, 1);
      rec.set(W.PAD_TOP, p.padTop);
      rec.set(W.PAD_LEFT, p.padLeft);
      rec.set(W.DEPTH_MULT, 1);
      rec.set(W.ACT_MIN, p.actMin);
      rec.set(W.ACT_MAX, p.actMax);
      break;
    case 'ADD':
      rec.setShape(W.IN2_SHAPE, inputShape4(p, 1));
      rec.set(W.IN_ZP, p.input1ZeroPoint);
      rec.set(W.IN2_ZP, p.input2ZeroPoint);
      rec.set(W.OUT_ZP, p.outputZeroPoint);
      rec.set(W.LEFT_SHIFT, p.leftShift);
      rec.set(W.IN1_MULT, p.input1Multiplier);
      rec.set(W.IN1_SHIFT, p.input1Shift);
      rec.set(W.IN2_MULT, p.input2Multiplier);
      rec.set(W.IN2_SHIFT, p.input2Shift);
      rec.set(W.OUT_MULT, p.outputMultiplier);
      rec.set(W.OUT_SHIFT, p.outputShift);
      rec.set(W.ACT_MIN, p.actMin);
      rec.set(W.ACT_MAX, p.actMax);
      break;
    case 'SOFTMAX':
      rec.set(W.SM_MULT, p.inputMultiplier);
      rec.set(W.SM_LSHIFT, p.inputLeftShift);
      rec.set(W.SM_DIFF_MIN, p.diffMin);
      rec.set(W.OUT_BITS, p.outputType === 'int8' ? 8 : 16);
      break;
    case 'QUANTIZE':
      rec.set(W.IN_ZP, p.inputZeroPoint);
      rec.set(W.OUT_ZP, p.outputZeroPoint);
      rec.set(W.OUT_MULT, p.multiplier);
      rec.set(W.OUT_SHIFT, p.shift);
      rec.set(W.ACT_MIN, -128);
      rec.set(W.ACT_MAX, 127);
      break;
  }
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

/** Input range [lo, hi) the windows of output range [o0, o1) touch along one axis, clipped to [0, size). */
function touched(o0: number, o1: number, stride: number, pad: number, k: number, dil: number, size: number): [number, number] {
  const lo = Math.max(0, o0 * stride - pad);
  const hi = Math.min(size, (o1 - 1) * stride - pad + (k - 1) * dil + 1);
  return hi > lo ? [lo, hi] : [Math.min(lo, size), Math.min(lo, size)];
}

/**
 * The smallest tile of data input k the kernels accept for `box` (halo
 * included), in the input's own coordinates (FC: the [batches, depth] view;
 * `depth` is FC's summed range). Boxes use the conventions of runFragment.
 */
export function requiredTile(p: KernelOpParams, k: number, box: Box, depth?: [number, number]): { origin: number[]; shape: number[] } {
  const range = (lo: number[], hi: number[]) => ({ origin: lo, shape: hi.map((h, i) => h - lo[i]) });
  const { start: s, end: e } = box;
  switch (p.kind) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const [, h, w, c] = p.inputShape;
      const [kh, kw, dh, dw] = 'filterShape' in p ? [p.filterShape[1], p.filterShape[2], p.dilationH, p.dilationW] : [p.filterH, p.filterW, 1, 1];
      const [y0, y1] = touched(s[1], e[1], p.strideH, p.padTop, kh, dh, h);
      const [x0, x1] = touched(s[2], e[2], p.strideW, p.padLeft, kw, dw, w);
      const dm = p.kind === 'DEPTHWISE_CONV_2D' ? p.depthMultiplier : 1;
      const [c0, c1] = p.kind === 'CONV_2D' ? [0, c] : [Math.floor(s[3] / dm), Math.floor((e[3] - 1) / dm) + 1];
      return range([s[0], y0, x0, c0], [e[0], y1, x1, c1]);
    }
    case 'FULLY_CONNECTED': {
      const [d0, d1] = depth ?? [0, p.depth];
      return range([s[0], d0], [e[0], d1]);
    }
    case 'ADD': {
      const shape = k === 0 ? p.input1Shape : p.input2Shape;
      const off = p.outputShape.length - shape.length;
      return range(
        shape.map((d, i) => (d === 1 ? 0 : s[off + i])),
        shape.map((d, i) => (d === 1 ? 1 : e[off + i])),
      );
    }
    default:
      return range([...s], [...e]);
  }
}
