// RUN: the input tile arrives in chunks into the activation region at the
// fragment's planned input offset; then the fragment's ops run one per step,
// so frames (a CANCEL) are still read between ops. An input may come from
// several senders (the gateway, and devices forwarding their output rows:
// docs/protocol.md section 3), each sending its own byte range in order from
// its `from`; the agent keeps the received ranges and the input is complete
// when they cover it.
import * as cbor from "./cbor";
import { clockUs } from "./host";
import { textStr, textU32 } from "./text";
import { K_RUN_FRAG, K_RUN_OFFSET, K_RUN_DATA, K_RUN_TOTAL, K_RUN_FROM, K_RUN_RUN, E_BAD_MESSAGE, E_NO_FRAGMENT, E_BAD_TRANSFER } from "./protocol.generated";
import { activationBase, findFragment, fragmentAddr, fragmentDigest } from "./arena";
import { blobInOffset, blobInBytes, blobOps, opRecord, opCall, blobOutOffset, blobOutBytes } from "./blob";
import { runFragment } from "./kernels";
import { CALL_BYTES, C_OUT, C_IN0, C_IN1 } from "../kernels/layout";

export const STEP_IDLE: i32 = 0;
export const STEP_MORE: i32 = 1;
/** The run finished: send RESULT with runOutput(). */
export const STEP_RESULT: i32 = 2;
/** A kernel refused: send ERROR with TEXT. */
export const STEP_ERROR: i32 = 3;

const CALL: usize = memory.data(<i32>CALL_BYTES, 8);

let receiving = false;
let computing = false;
let frag: u32 = 0;
let total: u32 = 0;
let op: u32 = 0;
let computeUs: u64 = 0;
/** The open input's run (0: a single sender, opened at offset 0). */
let run: u32 = 0;
/** Received byte ranges of the open input, sorted and disjoint: [START[i], END[i]). */
const MAX_RANGES: i32 = 16;
const START: usize = memory.data(MAX_RANGES * 4, 4);
const END: usize = memory.data(MAX_RANGES * 4, 4);
let ranges: i32 = 0;
/** Bytes of the input received from the chunk's sender's `from` on, in order: what its ACK says. */
export let runNext: u32 = 0;
/** The last chunk completed the input. */
export let runDone = false;
/** Seq of the chunk that completed the input; RESULT echoes it. */
export let runSeq: u32 = 0;
/** The run of the input that completed (0: a single sender's): RESULT names it. */
export let runDoneRun: u32 = 0;
/** Counters of the chunks that opened and completed the input (keyed devices; 0 otherwise): RESULT's tag covers them. */
export let runOpenCounter: u32 = 0;
export let runDoneCounter: u32 = 0;
let openCounter: u32 = 0;

export function runFrag(): u32 {
  return frag;
}
export function runComputing(): bool {
  return computing;
}
export function runComputeUs(): u32 {
  return computeUs > 0xffffffff ? 0xffffffff : <u32>computeUs;
}

function blob(): usize {
  return fragmentAddr(findFragment(frag));
}
export function runOutputPtr(): usize {
  return activationBase() + blobOutOffset(blob());
}
export function runOutputBytes(): u32 {
  return blobOutBytes(blob());
}
/** The 32-byte SHA-256 of the computing fragment's blob. */
export function runDigest(): usize {
  return fragmentDigest(findFragment(frag));
}

/** Stops the run of `id` (receiving or computing); true if there was one. */
export function runCancel(id: u32): bool {
  if ((receiving || computing) && frag == id) {
    runAbort();
    return true;
  }
  return false;
}

export function runAbort(): void {
  receiving = false;
  computing = false;
}

/** End of the received range holding byte `at` (or ending there); `at` when none does. */
function receivedUpTo(at: u32): u32 {
  for (let i = 0; i < ranges; i++) {
    const s = load<u32>(START + (<usize>i << 2));
    const e = load<u32>(END + (<usize>i << 2));
    if (s <= at && at <= e) return e;
  }
  return at;
}

/** Adds [s, e), which starts at the end of a range or in a gap; false when the table is full. */
function addRange(s: u32, e: u32): bool {
  let i = 0;
  while (i < ranges && load<u32>(END + (<usize>i << 2)) < s) i++;
  if (i < ranges && load<u32>(START + (<usize>i << 2)) <= s) {
    // Extends range i, and merges the next one when it now touches it.
    store<u32>(END + (<usize>i << 2), max(e, load<u32>(END + (<usize>i << 2))));
  } else {
    if (ranges == MAX_RANGES) return false;
    for (let j = ranges; j > i; j--) {
      store<u32>(START + (<usize>j << 2), load<u32>(START + (<usize>(j - 1) << 2)));
      store<u32>(END + (<usize>j << 2), load<u32>(END + (<usize>(j - 1) << 2)));
    }
    store<u32>(START + (<usize>i << 2), s);
    store<u32>(END + (<usize>i << 2), e);
    ranges++;
  }
  while (i + 1 < ranges && load<u32>(START + (<usize>(i + 1) << 2)) <= load<u32>(END + (<usize>i << 2))) {
    store<u32>(END + (<usize>i << 2), max(load<u32>(END + (<usize>i << 2)), load<u32>(END + (<usize>(i + 1) << 2))));
    for (let j = i + 1; j + 1 < ranges; j++) {
      store<u32>(START + (<usize>j << 2), load<u32>(START + (<usize>(j + 1) << 2)));
      store<u32>(END + (<usize>j << 2), load<u32>(END + (<usize>(j + 1) << 2)));
    }
    ranges--;
  }
  return true;
}

/** Handles a RUN chunk in the CBOR table, authenticated with `counter` (0 when unkeyed): 0 (answer ACK) or an error code with TEXT set. */
export function runChunk(seq: u32, counter: u32): u32 {
  runDone = false;
  if (!cbor.isUint(K_RUN_FRAG) || !cbor.isUint(K_RUN_OFFSET) || !cbor.isBytes(K_RUN_DATA)) {
    textStr("RUN needs frag (uint), offset (uint), data (bytes)");
    return E_BAD_MESSAGE;
  }
  const id = cbor.value(K_RUN_FRAG);
  const offset = cbor.value(K_RUN_OFFSET);
  const from = cbor.isUint(K_RUN_FROM) ? cbor.value(K_RUN_FROM) : 0;
  const chunkRun = cbor.isUint(K_RUN_RUN) ? cbor.value(K_RUN_RUN) : 0;
  // A single sender's input opens at offset 0 (a late copy reopens it); a run's at its first chunk from any sender.
  const opens = chunkRun == 0 ? offset == 0 : !(receiving && id == frag && chunkRun == run);
  if (opens) {
    if (!cbor.isUint(K_RUN_TOTAL)) {
      textStr(chunkRun == 0 ? "RUN at offset 0 needs total (uint)" : "RUN chunk opening a run needs total (uint)");
      return E_BAD_MESSAGE;
    }
    const slot = findFragment(id);
    if (slot < 0) {
      textStr("RUN of fragment ");
      textU32(id);
      textStr(", which is not loaded");
      return E_NO_FRAGMENT;
    }
    const want = blobInBytes(fragmentAddr(slot));
    const t = cbor.value(K_RUN_TOTAL);
    if (t != want) {
      textStr("RUN input of ");
      textU32(t);
      textStr(" bytes; fragment ");
      textU32(id);
      textStr(" takes ");
      textU32(want);
      return E_BAD_TRANSFER;
    }
    receiving = true;
    frag = id;
    total = t;
    run = chunkRun;
    ranges = 0;
    openCounter = counter;
  } else if (!receiving || id != frag) {
    textStr("RUN chunk of fragment ");
    textU32(id);
    textStr(" at offset ");
    textU32(offset);
    textStr(" with no input of it open");
    return E_BAD_TRANSFER;
  }
  // Go-back-N per sender: a chunk is taken when it continues what arrived from its `from`.
  runNext = receivedUpTo(from);
  if (offset != runNext) return 0;
  const len = cbor.value(K_RUN_DATA);
  if (<u64>offset + <u64>len > <u64>total) {
    textStr("RUN chunk ends past the input's ");
    textU32(total);
    textStr(" bytes");
    receiving = false;
    return E_BAD_TRANSFER;
  }
  if (len > 0) {
    // A full table takes no new range: the sender resends, as after a gap.
    if (!addRange(offset, offset + len)) return 0;
    memory.copy(activationBase() + blobInOffset(blob()) + offset, cbor.dataPtr(K_RUN_DATA), len);
  }
  runNext = receivedUpTo(from);
  if (total == 0 || (ranges == 1 && load<u32>(START) == 0 && load<u32>(END) == total)) {
    receiving = false;
    computing = true;
    runDone = true;
    runSeq = seq;
    runDoneRun = run;
    runOpenCounter = openCounter;
    runDoneCounter = counter;
    op = 0;
    computeUs = 0;
  }
  return 0;
}

/** Runs the next op of the computing fragment. */
export function runStep(): i32 {
  if (!computing) return STEP_IDLE;
  const b = blob();
  // Host-planned activation offsets become addresses (TFLM's offline-offset path).
  memory.copy(CALL, opCall(b, op), CALL_BYTES);
  const base = <u32>activationBase();
  store<u32>(CALL + (<usize>C_OUT << 2), load<u32>(CALL + (<usize>C_OUT << 2)) + base);
  store<u32>(CALL + (<usize>C_IN0 << 2), load<u32>(CALL + (<usize>C_IN0 << 2)) + base);
  store<u32>(CALL + (<usize>C_IN1 << 2), load<u32>(CALL + (<usize>C_IN1 << 2)) + base);
  const t0 = clockUs();
  const code = runFragment(opRecord(b, op), CALL);
  const dt = clockUs() - t0;
  if (dt > 0) computeUs += <u64>dt;
  if (code != 0) {
    computing = false;
    textStr("RUN fragment ");
    textU32(frag);
    textStr(" op ");
    textU32(op);
    textStr(": kernel code ");
    textU32(<u32>code);
    return STEP_ERROR;
  }
  op++;
  if (op < blobOps(b)) return STEP_MORE;
  computing = false;
  return STEP_RESULT;
}
