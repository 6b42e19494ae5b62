// The one entry the agent and the in-process engine call (ABI.md): validate a
// record once at LOAD (prepareRecord), run fragments with it (runFragment).
import {
  word, ABI_HASH, ABI_MAGIC, RECORD_BYTES, CALL_BYTES, W_MAGIC, W_OPCODE, W_FLAGS, W_SIZE,
  W_DEPTH_LO, W_DEPTH_HI, W_IN_SHAPE, FLAG_PREPARED, C_MODE, MODE_RUN, MODE_FC_REDUCE,
  OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_MAX_POOL_2D, OP_AVERAGE_POOL_2D, OP_ADD, OP_SOFTMAX, OP_REQUANTIZE,
  OK, BAD_RECORD, NOT_PREPARED, OUT_OF_MEMORY_BOUNDS, BAD_CALL,
} from './layout';
import { regionInMemory, wide } from './bounds';
import { checkConv, foldConv, runConv } from './conv';
import { checkDepthwise, foldDepthwise, runDepthwise } from './depthwise';
import { checkFc, foldFc, runFc, reduceFc } from './fully_connected';
import { checkPool } from './pool';
import { runMaxPool } from './max_pool';
import { runAveragePool } from './average_pool';
import { checkElementwise } from './elementwise';
import { runAdd } from './add';
import { runRequantize } from './requantize';
import { checkSoftmax, runSoftmax } from './softmax';

function checkRecord(rec: usize): i32 {
  if (!regionInMemory(<u32>rec, <u64>RECORD_BYTES) || (rec & 3) != 0) return OUT_OF_MEMORY_BOUNDS;
  if (word(rec, W_MAGIC) != ABI_MAGIC) return BAD_RECORD;
  const size = word(rec, W_SIZE);
  if (size < RECORD_BYTES) return BAD_RECORD;
  if (!regionInMemory(<u32>rec, wide(size))) return OUT_OF_MEMORY_BOUNDS;
  switch (word(rec, W_OPCODE)) {
    case OP_CONV_2D: return checkConv(rec);
    case OP_DEPTHWISE_CONV_2D: return checkDepthwise(rec);
    case OP_FULLY_CONNECTED: return checkFc(rec);
    case OP_MAX_POOL_2D:
    case OP_AVERAGE_POOL_2D: return checkPool(rec);
    case OP_ADD: return checkElementwise(rec, true);
    case OP_REQUANTIZE: return checkElementwise(rec, false);
    case OP_SOFTMAX: return checkSoftmax(rec);
  }
  return BAD_RECORD;
}

/** LOAD time: validates the record and its constants, folds the input zero
 * point into the bias, marks it prepared. Idempotent. */
export function prepareRecord(rec: usize): i32 {
  if (regionInMemory(<u32>rec, <u64>RECORD_BYTES) && (rec & 3) == 0) {
    store<i32>(rec + (<usize>W_FLAGS << 2), word(rec, W_FLAGS) & ~FLAG_PREPARED);
  }
  const e = checkRecord(rec);
  if (e != OK) return e;
  switch (word(rec, W_OPCODE)) {
    case OP_CONV_2D: foldConv(rec); break;
    case OP_DEPTHWISE_CONV_2D: foldDepthwise(rec); break;
    // A depth slice never uses the folded bias (partial sums and the reduce take the raw one).
    case OP_FULLY_CONNECTED: if (word(rec, W_DEPTH_LO) == 0 && word(rec, W_DEPTH_HI) == word(rec, W_IN_SHAPE + 1)) foldFc(rec); break;
  }
  store<i32>(rec + (<usize>W_FLAGS << 2), word(rec, W_FLAGS) | FLAG_PREPARED);
  return OK;
}

/** RUN time: one fragment of the prepared record at `rec`, described by the call block at `call`. */
export function runFragment(rec: usize, call: usize): i32 {
  if (!regionInMemory(<u32>call, <u64>CALL_BYTES) || (call & 3) != 0) return OUT_OF_MEMORY_BOUNDS;
  if (!regionInMemory(<u32>rec, <u64>RECORD_BYTES) || (rec & 3) != 0) return OUT_OF_MEMORY_BOUNDS;
  if (word(rec, W_MAGIC) != ABI_MAGIC) return BAD_RECORD;
  if ((word(rec, W_FLAGS) & FLAG_PREPARED) == 0) return NOT_PREPARED;
  // The record may have been overwritten since it was prepared: its size must still fit.
  if (!regionInMemory(<u32>rec, wide(word(rec, W_SIZE)))) return OUT_OF_MEMORY_BOUNDS;
  const mode = word(call, C_MODE);
  const op = word(rec, W_OPCODE);
  if (mode == MODE_FC_REDUCE) return op == OP_FULLY_CONNECTED ? reduceFc(rec, call) : BAD_CALL;
  if (mode != MODE_RUN) return BAD_CALL;
  switch (op) {
    case OP_CONV_2D: return runConv(rec, call);
    case OP_DEPTHWISE_CONV_2D: return runDepthwise(rec, call);
    case OP_FULLY_CONNECTED: return runFc(rec, call);
    case OP_MAX_POOL_2D: return runMaxPool(rec, call);
    case OP_AVERAGE_POOL_2D: return runAveragePool(rec, call);
    case OP_ADD: return runAdd(rec, call);
    case OP_SOFTMAX: return runSoftmax(rec, call);
    case OP_REQUANTIZE: return runRequantize(rec, call);
  }
  return BAD_RECORD;
}

/** The ABI hash of spec/abi.json (the whole contract: protocol, record,
 * call block, blob); the agent reports it in HELLO and the host compares. */
export function kernelAbiHash(): u32 {
  return ABI_HASH;
}

/** First byte past the module's static data, 16-aligned: the caller's memory starts here. */
export function kernelScratchBase(): usize {
  return (__heap_base + 15) & ~<usize>15;
}
