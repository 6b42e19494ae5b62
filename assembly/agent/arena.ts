// The arena: `budget` bytes of linear memory with a hard limit. Committed
// fragment blobs are stacked down from the top end (persistent), the blob
// being received sits just below them, and the activation region (the largest
// `arena` any fragment declared) occupies the bottom end, as TFLite Micro's
// allocator keeps persistent data at the tail and planned activations at the
// head. Every byte is accounted; nothing is allocated outside it.

export const MAX_FRAGMENTS: i32 = 64;

const ID: usize = memory.data(MAX_FRAGMENTS * 4, 4);
const ADDR: usize = memory.data(MAX_FRAGMENTS * 4, 4);
const SIZE: usize = memory.data(MAX_FRAGMENTS * 4, 4);
const ACT: usize = memory.data(MAX_FRAGMENTS * 4, 4);
// SHA-256 of each committed blob: a keyed device's RESULT tag covers it, so
// a gateway can tell which blob computed the output.
const DIGESTS: usize = memory.data(MAX_FRAGMENTS * 32, 4);
let count: i32 = 0;

let base: usize = 0;
let budget: u32 = 0;
let persistLow: usize = 0; // lowest address of the committed blobs
let pendingSize: u32 = 0;
let pendingAct: u32 = 0;
let actBytes: u32 = 0;
let highWater: u32 = 0;

// @ts-ignore: decorator
@inline function slotWord(table: usize, slot: i32): usize {
  return table + (<usize>slot << 2);
}

/** Rounds up to 8 bytes so every blob and record stays word-aligned. */
export function align8(n: u32): u32 {
  return (n + 7) & ~7;
}

export function arenaInit(start: usize, bytes: u32): void {
  base = start;
  budget = bytes;
  arenaReset();
}

/** Frees every fragment and the blob being received; the high-water mark
 * starts again, so it describes the deployment that follows. */
export function arenaReset(): void {
  highWater = 0;
  count = 0;
  persistLow = base + budget;
  pendingSize = 0;
  pendingAct = 0;
  actBytes = 0;
}

export function arenaBudget(): u32 {
  return budget;
}

export function arenaUsed(): u32 {
  return <u32>(base + budget - persistLow) + pendingSize + actBytes;
}

export function arenaFree(): u32 {
  return budget - arenaUsed();
}

export function arenaHighWater(): u32 {
  return highWater;
}

/** Start of the activation region; host-planned activation offsets are relative to it. */
export function activationBase(): usize {
  return base;
}

function noteUse(): void {
  const used = arenaUsed();
  if (used > highWater) highWater = used;
}

function recomputeActivations(): void {
  let a = pendingAct;
  for (let s = 0; s < count; s++) a = max(a, load<u32>(slotWord(ACT, s)));
  actBytes = align8(a);
}

/**
 * Bytes a new blob of `size` needing `act` activation bytes would add: the
 * blob plus any growth of the activation region.
 */
export function bytesNeeded(size: u32, act: u32): u64 {
  // In 64 bits: rounding a size near 2^32 up must not wrap to 0.
  const a = (<u64>act + 7) & ~7;
  return ((<u64>size + 7) & ~7) + (a > <u64>actBytes ? a - <u64>actBytes : 0);
}

/** Reserves room for a blob being received; the caller checked bytesNeeded <= arenaFree. */
export function reservePending(size: u32, act: u32): usize {
  pendingSize = align8(size);
  pendingAct = act;
  recomputeActivations();
  noteUse();
  return pendingAddr();
}

export function pendingAddr(): usize {
  return persistLow - pendingSize;
}

export function dropPending(): void {
  pendingSize = 0;
  pendingAct = 0;
  recomputeActivations();
}

export function fragmentCount(): i32 {
  return count;
}

export function findFragment(id: u32): i32 {
  for (let s = 0; s < count; s++) if (load<u32>(slotWord(ID, s)) == id) return s;
  return -1;
}

export function fragmentId(slot: i32): u32 {
  return load<u32>(slotWord(ID, slot));
}

export function fragmentAddr(slot: i32): usize {
  return <usize>load<u32>(slotWord(ADDR, slot));
}

/** Address of the 32-byte SHA-256 of the fragment's blob. */
export function fragmentDigest(slot: i32): usize {
  return DIGESTS + (<usize>slot << 5);
}

/** Turns the pending blob, of SHA-256 `digest`, into fragment `id`, replacing an older one of that id (the caller checked the table has room). */
export function commitPending(id: u32, digest: usize): void {
  const old = findFragment(id);
  const s = count++;
  memory.copy(fragmentDigest(s), digest, 32);
  store<u32>(slotWord(ID, s), id);
  store<u32>(slotWord(ADDR, s), <u32>pendingAddr());
  store<u32>(slotWord(SIZE, s), pendingSize);
  store<u32>(slotWord(ACT, s), pendingAct);
  persistLow -= pendingSize;
  pendingSize = 0;
  pendingAct = 0;
  if (old >= 0) removeFragment(old);
  recomputeActivations();
}

/**
 * Frees a fragment: blobs below it move up by its size (their records hold
 * only offsets relative to themselves), so free space stays in one piece.
 */
export function removeFragment(slot: i32): void {
  const addr = fragmentAddr(slot);
  const size = load<u32>(slotWord(SIZE, slot));
  const low = persistLow - pendingSize; // a blob being received moves too
  memory.copy(low + size, low, addr - low);
  for (let s = 0; s < count; s++) {
    const a = fragmentAddr(s);
    if (a < addr) store<u32>(slotWord(ADDR, s), <u32>(a + size));
  }
  persistLow += size;
  count--;
  if (slot != count) {
    store<u32>(slotWord(ID, slot), load<u32>(slotWord(ID, count)));
    store<u32>(slotWord(ADDR, slot), load<u32>(slotWord(ADDR, count)));
    store<u32>(slotWord(SIZE, slot), load<u32>(slotWord(SIZE, count)));
    store<u32>(slotWord(ACT, slot), load<u32>(slotWord(ACT, count)));
    memory.copy(fragmentDigest(slot), fragmentDigest(count), 32);
  }
  recomputeActivations();
}

/** First free byte between the activation region and the blobs; arenaFree() bytes follow. */
export function scratchStart(): usize {
  return base + actBytes;
}
