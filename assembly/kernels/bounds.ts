// Checks every region and coordinate a call names before any access (ABI.md).
import {
  word, uword, RECORD_BYTES, CALL_BYTES, W_SIZE, W_OUT_SHAPE, C_OUT, C_OUT_BYTES, C_BOX_START, C_BOX_END,
  OK, OUT_OF_MEMORY_BOUNDS, BOX_OUTSIDE_OUTPUT, TILE_OUTSIDE_INPUT, TILE_TOO_SMALL, OUTPUT_TOO_SMALL, BAD_CALL,
} from './layout';

/** Largest element count a shape may have: keeps every index product in i32. */
export const MAX_ELEMS: u64 = 0x7fffffff;

export function memoryBytes(): u64 {
  return <u64>memory.size() << 16;
}

/** A 32-bit offset or size as an unsigned 64-bit value. The explicit mask
 * matters: asc 0.28 compiles `<u64><u32>` of an i32 expression as a sign
 * extension, so an offset of 0xFFFFFFFF became -1 and passed the bounds check
 * (found by the random-call test; see uword in layout.ts). */
// @ts-ignore: decorator
@inline export function wide(v: u32): u64 {
  return <u64>v & 0xffffffff;
}

/** True when [off, off + len) lies inside linear memory. */
export function regionInMemory(off: u32, len: u64): bool {
  return wide(off) + len <= memoryBytes();
}

/** True when a constant at record offset `off` of `len` bytes lies in the record's constants. */
export function constantInRecord(rec: usize, off: i32, len: u64): bool {
  const size = word(rec, W_SIZE);
  return off >= RECORD_BYTES && (off & 3) == 0 && wide(off) + len <= wide(size);
}

/** Product of the 4 words at `w`, or 0 when a word is < 1 or the product exceeds MAX_ELEMS. */
export function shapeElems(base: usize, w: i32): u64 {
  let p: u64 = 1;
  for (let i = 0; i < 4; i++) {
    const d = word(base, w + i);
    if (d < 1) return 0;
    p *= <u64>d;
    if (p > MAX_ELEMS) return 0;
  }
  return p;
}

/** Product of 4 words that may be 0 (tile extents, box sizes); MAX_ELEMS + 1 on overflow. */
export function extentElems(base: usize, w: i32): u64 {
  let p: u64 = 1;
  for (let i = 0; i < 4; i++) {
    const d = word(base, w + i);
    if (d < 0) return MAX_ELEMS + 1;
    p *= <u64>d;
    if (p > MAX_ELEMS) return MAX_ELEMS + 1;
  }
  return p;
}

/** Box [start, end) of the call must be non-empty and inside the record's output shape. */
export function checkBox(rec: usize, call: usize): i32 {
  for (let i = 0; i < 4; i++) {
    const s = word(call, C_BOX_START + i);
    const e = word(call, C_BOX_END + i);
    if (s < 0 || e <= s || e > word(rec, W_OUT_SHAPE + i)) return BOX_OUTSIDE_OUTPUT;
  }
  return OK;
}

export function boxDim(call: usize, i: i32): i32 {
  return word(call, C_BOX_END + i) - word(call, C_BOX_START + i);
}

export function boxElems(call: usize): u64 {
  return <u64>boxDim(call, 0) * <u64>boxDim(call, 1) * <u64>boxDim(call, 2) * <u64>boxDim(call, 3);
}

/** A tile (offset word, origin words, extent words) must lie inside the full
 * input shape at record word `shapeW` and inside linear memory. */
export function checkTile(rec: usize, call: usize, offW: i32, originW: i32, extentW: i32, shapeW: i32, elemBytes: i32): i32 {
  for (let i = 0; i < 4; i++) {
    const o = word(call, originW + i);
    const e = word(call, extentW + i);
    if (o < 0 || e < 0 || <i64>o + <i64>e > <i64>word(rec, shapeW + i)) return TILE_OUTSIDE_INPUT;
  }
  const bytes = extentElems(call, extentW) * <u64>elemBytes;
  if (!regionInMemory(uword(call, offW), bytes)) return OUT_OF_MEMORY_BOUNDS;
  return OK;
}

/** The tile must contain [lo, hi) along axis i (nothing is needed when lo >= hi). */
export function tileCovers(call: usize, originW: i32, extentW: i32, i: i32, lo: i32, hi: i32): bool {
  if (lo >= hi) return true;
  const o = word(call, originW + i);
  return o <= lo && hi <= o + word(call, extentW + i);
}

export function tileRegionBytes(call: usize, extentW: i32, elemBytes: i32): u64 {
  return extentElems(call, extentW) * <u64>elemBytes;
}

/** Regions [a, a + alen) and [b, b + blen) (32-bit offsets) share a byte. */
function overlaps(a: u32, alen: u64, b: u32, blen: u64): bool {
  return alen > 0 && blen > 0 && wide(a) < wide(b) + blen && wide(b) < wide(a) + alen;
}

/** The output region must hold the box, lie in memory, and not overlap the
 * record, the call block or the input regions given as (offset, bytes) pairs. */
export function checkOutput(rec: usize, call: usize, outBytes: u64, in0: u32, in0Bytes: u64, in1: u32, in1Bytes: u64): i32 {
  const out = uword(call, C_OUT);
  if (wide(word(call, C_OUT_BYTES)) < outBytes) return OUTPUT_TOO_SMALL;
  if (!regionInMemory(out, outBytes)) return OUT_OF_MEMORY_BOUNDS;
  if (overlaps(out, outBytes, <u32>rec, wide(word(rec, W_SIZE)))) return BAD_CALL;
  if (overlaps(out, outBytes, <u32>call, <u64>CALL_BYTES)) return BAD_CALL;
  if (overlaps(out, outBytes, in0, in0Bytes)) return BAD_CALL;
  if (overlaps(out, outBytes, in1, in1Bytes)) return BAD_CALL;
  return OK;
}
