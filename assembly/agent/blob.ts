// The fragment blob of docs/protocol.md section 5: header, op table, kernel
// records with their constants, and per op a call block whose activation
// offsets the host planned relative to the activation region. Validated once
// at commit; at run time the agent only relocates and calls.
import { textStr, textU32 } from "./text";
import {
  E_BAD_FRAGMENT, E_KERNEL, BLOB_MAGIC, MAX_OPS, B_MAGIC, B_OPS, B_IN_OFFSET, B_IN_BYTES, B_OUT_OFFSET, B_OUT_BYTES,
  BLOB_HEADER_BYTES, OP_ENTRY_BYTES, ENTRY_RECORD, ENTRY_RECORD_BYTES, ENTRY_CALL,
} from "./protocol.generated";
import { prepareRecord } from "./kernels";
import {
  RECORD_BYTES, CALL_BYTES, W_SIZE, W_OPCODE, OP_ADD, MODE_FC_REDUCE,
  C_OUT, C_OUT_BYTES, C_BOX_START, C_BOX_END, C_IN0, C_IN0_EXTENT, C_IN1, C_IN1_EXTENT, C_MODE, C_PARTS, word, uword,
} from "../kernels/layout";

export function blobOps(blob: usize): u32 {
  return load<u32>(blob + B_OPS);
}
export function blobInOffset(blob: usize): u32 {
  return load<u32>(blob + B_IN_OFFSET);
}
export function blobInBytes(blob: usize): u32 {
  return load<u32>(blob + B_IN_BYTES);
}
export function blobOutOffset(blob: usize): u32 {
  return load<u32>(blob + B_OUT_OFFSET);
}
export function blobOutBytes(blob: usize): u32 {
  return load<u32>(blob + B_OUT_BYTES);
}
export function opRecord(blob: usize, op: u32): usize {
  return blob + <usize>load<u32>(blob + BLOB_HEADER_BYTES + op * OP_ENTRY_BYTES + ENTRY_RECORD);
}
export function opCall(blob: usize, op: u32): usize {
  return blob + <usize>load<u32>(blob + BLOB_HEADER_BYTES + op * OP_ENTRY_BYTES + ENTRY_CALL);
}

// @ts-ignore: decorator
@inline function within(offset: u64, bytes: u64, limit: u64): bool {
  return offset + bytes <= limit;
}

function fail(what: string, op: i32): u32 {
  textStr("fragment blob: ");
  if (op >= 0) {
    textStr("op ");
    textU32(<u32>op);
    textStr(" ");
  }
  textStr(what);
  return E_BAD_FRAGMENT;
}

/** Elements of a 4-word extent, or u64.MAX_VALUE when any is larger than `limit`. */
function elements(block: usize, first: i32, limit: u64): u64 {
  let n: u64 = 1;
  for (let i = 0; i < 4; i++) {
    const e = <u64>uword(block, first + i);
    if (e > limit) return u64.MAX_VALUE;
    n *= e;
    if (n > limit) return u64.MAX_VALUE;
  }
  return n;
}

/** Every region a call block names lies inside the activation region of `act` bytes. */
function checkCall(call: usize, opcode: i32, act: u64, op: i32): u32 {
  if (!within(<u64>uword(call, C_OUT), <u64>uword(call, C_OUT_BYTES), act)) return fail("output outside the activation region", op);
  let inBytes: u64;
  if (word(call, C_MODE) == MODE_FC_REDUCE) {
    // Partial sums: C_PARTS int32 arrays of the box's shape.
    let box: u64 = 1;
    for (let i = 0; i < 4; i++) {
      const d = <u64>(<u32>word(call, C_BOX_END + i) - <u32>word(call, C_BOX_START + i));
      if (d > act) return fail("box larger than the activation region", op);
      box *= d;
      if (box > act) return fail("box larger than the activation region", op);
    }
    inBytes = box * <u64>uword(call, C_PARTS) * 4;
  } else {
    inBytes = elements(call, C_IN0_EXTENT, act);
  }
  if (!within(<u64>uword(call, C_IN0), inBytes, act)) return fail("input tile outside the activation region", op);
  if (opcode == OP_ADD && !within(<u64>uword(call, C_IN1), elements(call, C_IN1_EXTENT, act), act)) {
    return fail("second input tile outside the activation region", op);
  }
  return 0;
}

/**
 * Checks the blob at `blob` (`total` bytes, activation region of `act`
 * bytes) and prepares its records. 0, or an error code with TEXT set.
 */
export function validateAndPrepare(blob: usize, total: u32, act: u32): u32 {
  if (total < BLOB_HEADER_BYTES || load<u32>(blob + B_MAGIC) != BLOB_MAGIC) return fail("bad magic (want MSF1)", -1);
  const ops = blobOps(blob);
  if (ops < 1 || ops > MAX_OPS) return fail("op count outside 1..32", -1);
  if (BLOB_HEADER_BYTES + ops * OP_ENTRY_BYTES > total) return fail("op table past the end", -1);
  const a = <u64>act;
  if (blobInBytes(blob) == 0 || !within(<u64>blobInOffset(blob), <u64>blobInBytes(blob), a)) return fail("input outside the activation region", -1);
  if (blobOutBytes(blob) == 0 || !within(<u64>blobOutOffset(blob), <u64>blobOutBytes(blob), a)) return fail("output outside the activation region", -1);
  for (let i: u32 = 0; i < ops; i++) {
    const entry = blob + BLOB_HEADER_BYTES + i * OP_ENTRY_BYTES;
    const recOff = load<u32>(entry + ENTRY_RECORD);
    const recBytes = load<u32>(entry + ENTRY_RECORD_BYTES);
    const callOff = load<u32>(entry + ENTRY_CALL);
    if ((recOff & 3) != 0 || (callOff & 3) != 0) return fail("record or call block not 4-aligned", i);
    if (recBytes < <u32>RECORD_BYTES || !within(<u64>recOff, <u64>recBytes, <u64>total)) return fail("record outside the blob", i);
    if (!within(<u64>callOff, <u64>CALL_BYTES, <u64>total)) return fail("call block outside the blob", i);
    const rec = blob + recOff;
    // The kernels bound constants by W_SIZE: it must not reach past this record.
    if (<u32>word(rec, W_SIZE) != recBytes) return fail("record size word differs from the op table", i);
    const bad = checkCall(blob + callOff, word(rec, W_OPCODE), a, i);
    if (bad != 0) return bad;
    const code = prepareRecord(rec);
    if (code != 0) {
      textStr("op ");
      textU32(i);
      textStr(": kernel refused its record (kernel code ");
      textU32(<u32>code);
      textStr(")");
      return E_KERNEL;
    }
  }
  return 0;
}
