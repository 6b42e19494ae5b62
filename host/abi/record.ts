// Writing one op record (assembly/kernels/ABI.md): the fixed header words,
// then constants appended 4-aligned with their offsets in the header. The
// per-op files of ops/ say which words and constants their op fills.
import type { ConvParams, FullyConnectedParams } from '../model/op-params.ts';
import { RECORD_BYTES, RECORD_WORDS, W } from './abi.generated.ts';

/** Which constants a record holds: output channels (FC units) and, for FC, an input-depth range. */
export interface Slice {
  channels?: [number, number];
  depth?: [number, number];
}

const align4 = (n: number) => (n + 3) & ~3;

export const bytesOf = (a: Int8Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Builder of a record blob: header words, then constants appended 4-aligned. */
export class RecordWriter {
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

export function checkRange(label: string, r: [number, number], limit: number): [number, number] {
  const [lo, hi] = r;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo < hi && hi <= limit))
    throw new RangeError(`${label} [${lo}, ${hi}) is not a non-empty range inside [0, ${limit})`);
  return r;
}

/** Per-channel int32 arrays of the slice: raw bias (zeros when absent), folded-bias space, multipliers, shifts. */
export function channelConstants(rec: RecordWriter, p: ConvParams | FullyConnectedParams, lo: number, hi: number): void {
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

/** Right-aligns a shape of rank <= 4 into 4 words padded with 1 (ADD, REQUANTIZE). */
export function shape4(shape: readonly number[]): number[] {
  if (shape.length > 4) throw new RangeError(`shape [${shape}] has more than 4 dimensions`);
  return [...Array(4 - shape.length).fill(1), ...shape];
}

/** The weight layout of a CONV_2D or FULLY_CONNECTED record whose rows are
 * a whole number of words (ABI.md, "Weight slice layouts"): each full block
 * of four channels [4b, 4b + 4) has its rows interleaved by words, word k
 * (bytes 4k..4k+3 of a row) of channel j at 16k + 4j in the block, so a
 * kernel reads the block's four words of one input word from one address;
 * the channels past the last full block keep their plain rows. */
export function interleaveBlocks(w: Int8Array, channels: number, rowBytes: number): Int8Array {
  const out = w.slice();
  for (let b = 0; b + 4 <= channels; b += 4)
    for (let j = 0; j < 4; j++)
      for (let k = 0; k < rowBytes; k += 4) out.set(w.subarray((b + j) * rowBytes + k, (b + j) * rowBytes + k + 4), b * rowBytes + 4 * k + 4 * j);
  return out;
}
