// Word indices of the op record and the call block (ABI.md). The host mirrors
// these in host/model/kernel-abi.ts; kernelAbiHash() lets both sides check.

export const ABI_MAGIC: i32 = 0x4b4d5331;
export const RECORD_WORDS: i32 = 64;
export const RECORD_BYTES: i32 = RECORD_WORDS * 4;
export const CALL_WORDS: i32 = 32;
export const CALL_BYTES: i32 = CALL_WORDS * 4;

// Op record words.
export const W_MAGIC: i32 = 0;
export const W_OPCODE: i32 = 1;
export const W_FLAGS: i32 = 2;
export const W_SIZE: i32 = 3;
export const W_IN_SHAPE: i32 = 4;
export const W_OUT_SHAPE: i32 = 8;
export const W_IN2_SHAPE: i32 = 12;
export const W_KH: i32 = 16;
export const W_KW: i32 = 17;
export const W_STRIDE_H: i32 = 18;
export const W_STRIDE_W: i32 = 19;
export const W_DIL_H: i32 = 20;
export const W_DIL_W: i32 = 21;
export const W_PAD_TOP: i32 = 22;
export const W_PAD_LEFT: i32 = 23;
export const W_DEPTH_MULT: i32 = 24;
export const W_IN_ZP: i32 = 25;
export const W_OUT_ZP: i32 = 26;
export const W_ACT_MIN: i32 = 27;
export const W_ACT_MAX: i32 = 28;
export const W_CH_LO: i32 = 29;
export const W_CH_HI: i32 = 30;
export const W_DEPTH_LO: i32 = 31;
export const W_DEPTH_HI: i32 = 32;
export const W_WEIGHTS: i32 = 33;
export const W_BIAS: i32 = 34;
export const W_FOLDED: i32 = 35;
export const W_MULT: i32 = 36;
export const W_SHIFT: i32 = 37;
export const W_IN2_ZP: i32 = 38;
export const W_LEFT_SHIFT: i32 = 39;
export const W_IN1_MULT: i32 = 40;
export const W_IN1_SHIFT: i32 = 41;
export const W_IN2_MULT: i32 = 42;
export const W_IN2_SHIFT: i32 = 43;
export const W_OUT_MULT: i32 = 44;
export const W_OUT_SHIFT: i32 = 45;
export const W_SM_MULT: i32 = 46;
export const W_SM_LSHIFT: i32 = 47;
export const W_SM_DIFF_MIN: i32 = 48;
export const W_OUT_BITS: i32 = 49;

export const FLAG_PREPARED: i32 = 1;

// Call block words.
export const C_OUT: i32 = 0;
export const C_OUT_BYTES: i32 = 1;
export const C_BOX_START: i32 = 2;
export const C_BOX_END: i32 = 6;
export const C_IN0: i32 = 10;
export const C_IN0_ORIGIN: i32 = 11;
export const C_IN0_EXTENT: i32 = 15;
export const C_IN1: i32 = 19;
export const C_IN1_ORIGIN: i32 = 20;
export const C_IN1_EXTENT: i32 = 24;
export const C_DEPTH_START: i32 = 28;
export const C_DEPTH_END: i32 = 29;
export const C_MODE: i32 = 30;
export const C_PARTS: i32 = 31;

export const MODE_RUN: i32 = 0;
export const MODE_FC_REDUCE: i32 = 1;

// Opcodes.
export const OP_CONV: i32 = 1;
export const OP_DEPTHWISE: i32 = 2;
export const OP_FC: i32 = 3;
export const OP_MAX_POOL: i32 = 4;
export const OP_AVG_POOL: i32 = 5;
export const OP_ADD: i32 = 6;
export const OP_SOFTMAX: i32 = 7;
export const OP_REQUANTIZE: i32 = 8;

// Error codes (stable: the agent forwards them in ERROR).
export const OK: i32 = 0;
export const BAD_RECORD: i32 = 1;
export const NOT_PREPARED: i32 = 2;
export const OUT_OF_MEMORY_BOUNDS: i32 = 3;
export const BOX_OUTSIDE_OUTPUT: i32 = 4;
export const TILE_TOO_SMALL: i32 = 5;
export const TILE_OUTSIDE_INPUT: i32 = 6;
export const CHANNELS_NOT_LOADED: i32 = 7;
export const OUTPUT_TOO_SMALL: i32 = 8;
export const BAD_CALL: i32 = 9;
export const OUT_OF_RANGE: i32 = 10;

/** Reads word `w` of the block at `base`. */
// @ts-ignore: decorator
@inline export function word(base: usize, w: i32): i32 {
  return load<i32>(base + (<usize>w << 2));
}

/** Reads word `w` as unsigned (offsets, sizes). Use this, not `<u64><u32>word(...)`:
 * asc 0.28 compiles `<u64><u32>` of an i32 expression as a sign extension, so
 * 0xFFFFFFFF would widen to 2^64 - 1 and wrap in `offset + length` checks. */
// @ts-ignore: decorator
@inline export function uword(base: usize, w: i32): u32 {
  return load<u32>(base + (<usize>w << 2));
}
