// Test entry: exposes the agent's SHA-256, HMAC and ChaCha20 to
// test/sha256.test.ts and test/chacha20.test.ts, which compile this file on
// their own (it is not part of agent.wasm).
import { sha256Init, sha256Update, sha256Final, SHA256_CTX_BYTES } from "../sha256";
import { hmacSetKey, hmacSha256 } from "../hmac";
import { chachaSetKey, chachaSetNonce, chachaXor } from "../chacha20";

const CTX: usize = memory.data(<i32>SHA256_CTX_BYTES, 8);

/** First free byte: the test writes its data from here. */
export function scratch(): usize {
  return (__heap_base + 15) & ~15;
}

export function shaInit(): void {
  sha256Init(CTX);
}

export function shaUpdate(ptr: usize, len: usize): void {
  sha256Update(CTX, ptr, len);
}

export function shaFinal(out: usize): void {
  sha256Final(CTX, out);
}

export function hmac(key: usize, keyLen: usize, data: usize, len: usize, out: usize): void {
  hmacSetKey(key, keyLen);
  hmacSha256(data, len, out);
}

/** XORs `len` bytes at `ptr` with ChaCha20(key at `key`, nonce words n0..n2) from block 0. */
export function chacha(key: usize, n0: u32, n1: u32, n2: u32, ptr: usize, len: usize): void {
  chachaSetKey(key);
  chachaSetNonce(n0, n1, n2);
  chachaXor(ptr, len);
}
