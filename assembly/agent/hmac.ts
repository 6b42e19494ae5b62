// HMAC-SHA256 (RFC 2104) with one provisioned key. The key's inner and outer
// pad blocks are kept, so a tag costs two SHA-256 passes and no allocation.
import { sha256Init, sha256Update, sha256Final, SHA256_CTX_BYTES, SHA256_BYTES } from "./sha256";

export const MAX_KEY_BYTES: usize = 64;
const IPAD: usize = memory.data(64, 4);
const OPAD: usize = memory.data(64, 4);
const CTX: usize = memory.data(<i32>SHA256_CTX_BYTES, 8);
const INNER: usize = memory.data(32, 4);
const SAVED: usize = memory.data(128, 4);

/** Sets the key (1..64 bytes; longer keys are not accepted, so no pre-hash). */
export function hmacSetKey(key: usize, len: usize): void {
  memory.fill(IPAD, 0x36, 64);
  memory.fill(OPAD, 0x5c, 64);
  for (let i: usize = 0; i < len; i++) {
    const k = load<u8>(key + i);
    store<u8>(IPAD + i, k ^ 0x36);
    store<u8>(OPAD + i, k ^ 0x5c);
  }
}

/** Starts a streamed HMAC in `ctx` (a SHA-256 context): feed it with sha256Update, end with hmacFinish. */
export function hmacBegin(ctx: usize): void {
  sha256Init(ctx);
  sha256Update(ctx, IPAD, 64);
}

/** Writes the HMAC streamed into `ctx` (32 bytes) to `out`. */
export function hmacFinish(ctx: usize, out: usize): void {
  sha256Final(ctx, INNER);
  sha256Init(ctx);
  sha256Update(ctx, OPAD, 64);
  sha256Update(ctx, INNER, SHA256_BYTES);
  sha256Final(ctx, out);
}

/** Writes HMAC-SHA256(key, data) (32 bytes) to `out`. */
export function hmacSha256(data: usize, len: usize, out: usize): void {
  hmacBegin(CTX);
  sha256Update(CTX, data, len);
  hmacFinish(CTX, out);
}

/** Compares `len` bytes in time independent of where they differ. */
export function equalConstantTime(a: usize, b: usize, len: usize): bool {
  let diff: u32 = 0;
  for (let i: usize = 0; i < len; i++) diff |= <u32>(load<u8>(a + i) ^ load<u8>(b + i));
  return diff == 0;
}

/** Writes HMAC-SHA256 under another key (1..64 bytes) to `out`; the provisioned key stays. */
export function hmacSha256With(key: usize, keyLen: usize, data: usize, len: usize, out: usize): void {
  memory.copy(SAVED, IPAD, 64);
  memory.copy(SAVED + 64, OPAD, 64);
  hmacSetKey(key, keyLen);
  hmacSha256(data, len, out);
  memory.copy(IPAD, SAVED, 64);
  memory.copy(OPAD, SAVED + 64, 64);
}
