// Numbers of docs/protocol.md that the agent shares with host/link/messages.ts.

export const PROTOCOL_VERSION: u32 = 1;

// Message types (key 0).
export const T_HELLO: u32 = 1;
export const T_PING: u32 = 2;
export const T_PROFILE: u32 = 3;
export const T_LOAD: u32 = 4;
export const T_RUN: u32 = 5;
export const T_CANCEL: u32 = 6;
export const T_UNLOAD: u32 = 7;
export const T_RESET: u32 = 8;
export const T_ACK: u32 = 16;
export const T_RESULT: u32 = 17;
export const T_ERROR: u32 = 18;

// Keys shared by every message.
export const K_TYPE: u32 = 0;
export const K_SEQ: u32 = 1;
// LOAD / RUN / CANCEL / UNLOAD request keys.
export const K_FRAG: u32 = 2;
export const K_OFFSET: u32 = 3;
export const K_DATA: u32 = 4;
export const K_TOTAL: u32 = 5;
export const K_DIGEST: u32 = 6;
export const K_ARENA: u32 = 7;
export const K_PROFILE_MACS: u32 = 2;
export const K_COUNTER: u32 = 22;
export const K_TAG: u32 = 23;
export const TAG_BYTES: u32 = 32;

// Error codes (stable).
export const E_BAD_MESSAGE: u32 = 1;
export const E_BAD_VERSION: u32 = 2;
export const E_UNKNOWN_TYPE: u32 = 3;
export const E_TOO_LARGE: u32 = 4;
export const E_NO_MEMORY: u32 = 5;
export const E_AUTH: u32 = 6;
export const E_REPLAY: u32 = 7;
export const E_NO_FRAGMENT: u32 = 8;
export const E_BAD_FRAGMENT: u32 = 9;
export const E_BAD_TRANSFER: u32 = 10;
export const E_BUSY: u32 = 11;
export const E_KERNEL: u32 = 12;
export const E_LIMIT: u32 = 14; // 13 (CANCELLED) is reserved

/** Engine names by the code the host passes to init. */
export function engineName(code: u32): string {
  if (code == 1) return "node";
  if (code == 2) return "wasm2c";
  if (code == 3) return "wasm3";
  return "unknown";
}
