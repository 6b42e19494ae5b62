// The four signed int8 lanes of a little-endian word: one word load feeds
// four MACs (on wasm2c/Cortex-M it also means one memory check, not four).
// Lanes 0-2 use the sign-extension op (one instruction in V8 and on Thumb-2).

// @ts-ignore: decorator
@inline export function lane0(v: i32): i32 {
  return <i32><i8>v;
}

// @ts-ignore: decorator
@inline export function lane1(v: i32): i32 {
  return <i32><i8>(v >> 8);
}

// @ts-ignore: decorator
@inline export function lane2(v: i32): i32 {
  return <i32><i8>(v >> 16);
}

// @ts-ignore: decorator
@inline export function lane3(v: i32): i32 {
  return v >> 24;
}
