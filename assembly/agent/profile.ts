// PROFILE: an on-device micro-benchmark of each op type through the same
// kernel dispatch a RUN uses, on small synthetic records built in free arena
// bytes (borrowed only for the measurement, never past the budget). Rates
// are MACs per second of the device's clock; for pool, add and softmax one
// "MAC" is one input element processed (pool: one window tap).
import { clockUs } from "./host";
import { prepareRecord, runFragment } from "./kernels";
import { scratchStart, arenaFree } from "./arena";
import {
  ABI_MAGIC, RECORD_BYTES, CALL_BYTES, W_MAGIC, W_OPCODE, W_SIZE, W_IN_SHAPE, W_OUT_SHAPE, W_IN2_SHAPE, W_KH, W_KW,
  W_STRIDE_H, W_STRIDE_W, W_DIL_H, W_DIL_W, W_PAD_TOP, W_PAD_LEFT, W_DEPTH_MULT, W_ACT_MIN, W_ACT_MAX, W_CH_LO, W_CH_HI,
  W_DEPTH_LO, W_DEPTH_HI, W_WEIGHTS, W_BIAS, W_FOLDED, W_MULT, W_SHIFT, W_LEFT_SHIFT, W_IN1_MULT, W_IN1_SHIFT,
  W_IN2_MULT, W_IN2_SHIFT, W_OUT_MULT, W_OUT_SHIFT, W_SM_MULT, W_SM_LSHIFT, W_SM_DIFF_MIN, W_OUT_BITS,
  C_OUT, C_OUT_BYTES, C_BOX_END, C_IN0, C_IN0_EXTENT, C_IN1, C_IN1_EXTENT, C_DEPTH_END,
  OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_MAX_POOL_2D, OP_ADD, OP_SOFTMAX,
} from "../kernels/layout";
import { PROFILE_OPS } from "./protocol.generated";

// MAC/s per op type, in the spec's PROFILE order (profileOpName).
const RATES: usize = memory.data(<i32>PROFILE_OPS * 4, 4);

export function profileRate(i: u32): u32 {
  return load<u32>(RATES + (<usize>i << 2));
}

// Scratch layout of one benchmark: record, call block, inputs, output.
let rec: usize = 0;
let recEnd: usize = 0; // bytes of the record so far (header + constants)
let call: usize = 0;

// @ts-ignore: decorator
@inline function setW(block: usize, w: i32, v: i32): void {
  store<i32>(block + (<usize>w << 2), v);
}

function set4(block: usize, w: i32, a: i32, b: i32, c: i32, d: i32): void {
  setW(block, w, a);
  setW(block, w + 1, b);
  setW(block, w + 2, c);
  setW(block, w + 3, d);
}

/** Appends `bytes` of constants (pattern-filled) and stores their offset in word w. */
function constant(w: i32, bytes: u32, fill: u8): void {
  setW(rec, w, <i32>recEnd);
  memory.fill(rec + recEnd, fill, bytes);
  recEnd += (bytes + 3) & ~3;
}

function int32Constant(w: i32, count: u32, v: i32): void {
  setW(rec, w, <i32>recEnd);
  for (let i: u32 = 0; i < count; i++) store<i32>(rec + recEnd + (<usize>i << 2), v);
  recEnd += count << 2;
}

/**
 * Starts a benchmark whose record carries `constBytes` of constants and whose
 * tiles and output take the given bytes; false (rate 0) when the free arena
 * cannot hold it all, checked before any byte is written.
 */
function begin(slot: u32, opcode: i32, constBytes: u32, inBytes: u32, in2Bytes: u32, outBytes: u32): bool {
  store<u32>(RATES + (<usize>slot << 2), 0);
  const need = <u64>8 + RECORD_BYTES + constBytes + CALL_BYTES + align4(inBytes) + align4(in2Bytes) + outBytes;
  if (need > <u64>arenaFree()) return false;
  rec = (scratchStart() + 7) & ~7;
  memory.fill(rec, 0, RECORD_BYTES);
  recEnd = RECORD_BYTES;
  setW(rec, W_MAGIC, ABI_MAGIC);
  setW(rec, W_OPCODE, opcode);
  setW(rec, W_ACT_MIN, -128);
  setW(rec, W_ACT_MAX, 127);
  return true;
}

// @ts-ignore: decorator
@inline function align4(n: u32): u32 {
  return (n + 3) & ~3;
}

function channels(n: i32, weightBytes: u32): void {
  setW(rec, W_CH_LO, 0);
  setW(rec, W_CH_HI, n);
  constant(W_WEIGHTS, weightBytes, 3);
  int32Constant(W_BIAS, n, 100);
  int32Constant(W_FOLDED, n, 0);
  int32Constant(W_MULT, n, 0x40000000);
  int32Constant(W_SHIFT, n, -7);
}

function windowParams(k: i32, stride: i32, pad: i32): void {
  setW(rec, W_KH, k);
  setW(rec, W_KW, k);
  setW(rec, W_STRIDE_H, stride);
  setW(rec, W_STRIDE_W, stride);
  setW(rec, W_DIL_H, 1);
  setW(rec, W_DIL_W, 1);
  setW(rec, W_PAD_TOP, pad);
  setW(rec, W_PAD_LEFT, pad);
  setW(rec, W_DEPTH_MULT, 1);
}

/**
 * Closes the record, lays out the call block, input tiles and output after it
 * (all 4-D: extents = the shapes, the box = the whole output), and times
 * repeated runs. The rate stays 0 if a kernel refused.
 */
function measure(slot: u32, inBytes: u32, in2Bytes: u32, outBytes: u32, opMacs: u32, target: u32): void {
  setW(rec, W_SIZE, <i32>recEnd);
  call = rec + recEnd;
  const in0 = call + CALL_BYTES;
  const in1 = in0 + align4(inBytes);
  const out = in1 + align4(in2Bytes);
  memory.fill(call, 0, CALL_BYTES);
  for (let i = 0; i < 4; i++) {
    setW(call, C_BOX_END + i, load<i32>(rec + (<usize>(W_OUT_SHAPE + i) << 2)));
    setW(call, C_IN0_EXTENT + i, load<i32>(rec + (<usize>(W_IN_SHAPE + i) << 2)));
    setW(call, C_IN1_EXTENT + i, load<i32>(rec + (<usize>(W_IN2_SHAPE + i) << 2)));
  }
  setW(call, C_OUT, <i32>out);
  setW(call, C_OUT_BYTES, <i32>outBytes);
  setW(call, C_IN0, <i32>in0);
  setW(call, C_IN1, <i32>in1);
  setW(call, C_DEPTH_END, load<i32>(rec + (<usize>(W_IN_SHAPE + 1) << 2)));
  for (let i: u32 = 0; i < inBytes + in2Bytes; i++) store<u8>(in0 + i, <u8>(i * 37));
  if (prepareRecord(rec) != 0) return;
  const reps = max<u32>(1, (target + opMacs - 1) / opMacs);
  if (runFragment(rec, call) != 0) return; // warm-up: first-call costs are not the op's speed
  const t0 = clockUs();
  for (let r: u32 = 0; r < reps; r++) if (runFragment(rec, call) != 0) return;
  const us = max<i64>(1, clockUs() - t0);
  const rate = (<u64>opMacs * <u64>reps * 1000000) / <u64>us;
  store<u32>(RATES + (<usize>slot << 2), rate > 0xffffffff ? 0xffffffff : <u32>rate);
}

/** Measures every op type with about `target` MACs each; rates via profileRate. */
export function profile(target: u32): void {
  // conv 8x8x8 -> 8x8x8, 3x3, SAME
  if (begin(0, OP_CONV_2D, 8 * 9 * 8 + 8 * 16, 512, 0, 512)) {
    set4(rec, W_IN_SHAPE, 1, 8, 8, 8);
    set4(rec, W_OUT_SHAPE, 1, 8, 8, 8);
    windowParams(3, 1, 1);
    channels(8, 8 * 9 * 8);
    measure(0, 512, 0, 512, 8 * 8 * 8 * 72, target);
  }
  // depthwise 8x8x16, 3x3, SAME
  if (begin(1, OP_DEPTHWISE_CONV_2D, 9 * 16 + 16 * 16, 1024, 0, 1024)) {
    set4(rec, W_IN_SHAPE, 1, 8, 8, 16);
    set4(rec, W_OUT_SHAPE, 1, 8, 8, 16);
    windowParams(3, 1, 1);
    channels(16, 9 * 16);
    measure(1, 1024, 0, 1024, 8 * 8 * 16 * 9, target);
  }
  // fc 256 -> 16
  if (begin(2, OP_FULLY_CONNECTED, 16 * 256 + 16 * 16, 256, 0, 16)) {
    set4(rec, W_IN_SHAPE, 1, 256, 1, 1);
    set4(rec, W_OUT_SHAPE, 1, 16, 1, 1);
    setW(rec, W_DEPTH_LO, 0);
    setW(rec, W_DEPTH_HI, 256);
    channels(16, 16 * 256);
    measure(2, 256, 0, 16, 16 * 256, target);
  }
  // max pool 8x8x16 -> 4x4x16, 2x2 stride 2
  if (begin(3, OP_MAX_POOL_2D, 0, 1024, 0, 256)) {
    set4(rec, W_IN_SHAPE, 1, 8, 8, 16);
    set4(rec, W_OUT_SHAPE, 1, 4, 4, 16);
    windowParams(2, 2, 0);
    measure(3, 1024, 0, 256, 4 * 4 * 16 * 4, target);
  }
  // add 8x8x16 + 8x8x16
  if (begin(4, OP_ADD, 0, 1024, 1024, 1024)) {
    set4(rec, W_IN_SHAPE, 1, 8, 8, 16);
    set4(rec, W_IN2_SHAPE, 1, 8, 8, 16);
    set4(rec, W_OUT_SHAPE, 1, 8, 8, 16);
    setW(rec, W_LEFT_SHIFT, 20);
    setW(rec, W_IN1_MULT, 0x40000000);
    setW(rec, W_IN1_SHIFT, -1);
    setW(rec, W_IN2_MULT, 0x40000000);
    setW(rec, W_IN2_SHIFT, -1);
    setW(rec, W_OUT_MULT, 0x40000000);
    setW(rec, W_OUT_SHIFT, -19);
    measure(4, 1024, 1024, 1024, 1024, target);
  }
  // softmax 4 rows x 64
  if (begin(5, OP_SOFTMAX, 0, 256, 0, 256)) {
    set4(rec, W_IN_SHAPE, 4, 64, 1, 1);
    set4(rec, W_OUT_SHAPE, 4, 64, 1, 1);
    setW(rec, W_SM_MULT, 0x40000000);
    setW(rec, W_SM_LSHIFT, 26);
    setW(rec, W_SM_DIFF_MIN, -248);
    setW(rec, W_OUT_BITS, 8);
    measure(5, 256, 0, 256, 256, target);
  }
}
