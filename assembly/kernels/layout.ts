// Reading the op record and call block (ABI.md). Their word indices, the
// opcodes and the error codes come from spec/abi.json through the generated
// layout.generated.ts, which the host's TypeScript and the firmware's C share.
export * from "./layout.generated";

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
