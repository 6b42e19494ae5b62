// ChaCha20 (RFC 8439 section 2.4): a 256-bit key, a 96-bit nonce and a
// 32-bit block counter from 0. Keyed devices encrypt LOAD and RUN data and
// RESULT data with it when asked (docs/protocol.md section 4); the tag, over
// the ciphertext, authenticates it (encrypt-then-MAC).

const KEY: usize = memory.data(32, 4);
const NONCE: usize = memory.data(12, 4);
/** The keystream block of the last chachaBlock call, 64 bytes. */
export const KEYSTREAM: usize = memory.data(64, 4);

/** Sets the 32-byte key at `key`. */
export function chachaSetKey(key: usize): void {
  memory.copy(KEY, key, 32);
}

/** Sets the nonce to three little-endian words. */
export function chachaSetNonce(w0: u32, w1: u32, w2: u32): void {
  store<u32>(NONCE, w0);
  store<u32>(NONCE + 4, w1);
  store<u32>(NONCE + 8, w2);
}

// @ts-ignore: decorator
@inline function rotl(x: u32, n: u32): u32 {
  return (x << n) | (x >>> (32 - n));
}

/** Writes keystream block `counter` to KEYSTREAM. */
export function chachaBlock(counter: u32): void {
  const s0: u32 = 0x61707865, s1: u32 = 0x3320646e, s2: u32 = 0x79622d32, s3: u32 = 0x6b206574;
  const s4 = load<u32>(KEY), s5 = load<u32>(KEY, 4), s6 = load<u32>(KEY, 8), s7 = load<u32>(KEY, 12);
  const s8 = load<u32>(KEY, 16), s9 = load<u32>(KEY, 20), s10 = load<u32>(KEY, 24), s11 = load<u32>(KEY, 28);
  const s12 = counter, s13 = load<u32>(NONCE), s14 = load<u32>(NONCE, 4), s15 = load<u32>(NONCE, 8);
  let x0 = s0, x1 = s1, x2 = s2, x3 = s3, x4 = s4, x5 = s5, x6 = s6, x7 = s7;
  let x8 = s8, x9 = s9, x10 = s10, x11 = s11, x12 = s12, x13 = s13, x14 = s14, x15 = s15;
  for (let i = 0; i < 10; i++) {
    // Column rounds.
    x0 += x4; x12 = rotl(x12 ^ x0, 16); x8 += x12; x4 = rotl(x4 ^ x8, 12); x0 += x4; x12 = rotl(x12 ^ x0, 8); x8 += x12; x4 = rotl(x4 ^ x8, 7);
    x1 += x5; x13 = rotl(x13 ^ x1, 16); x9 += x13; x5 = rotl(x5 ^ x9, 12); x1 += x5; x13 = rotl(x13 ^ x1, 8); x9 += x13; x5 = rotl(x5 ^ x9, 7);
    x2 += x6; x14 = rotl(x14 ^ x2, 16); x10 += x14; x6 = rotl(x6 ^ x10, 12); x2 += x6; x14 = rotl(x14 ^ x2, 8); x10 += x14; x6 = rotl(x6 ^ x10, 7);
    x3 += x7; x15 = rotl(x15 ^ x3, 16); x11 += x15; x7 = rotl(x7 ^ x11, 12); x3 += x7; x15 = rotl(x15 ^ x3, 8); x11 += x15; x7 = rotl(x7 ^ x11, 7);
    // Diagonal rounds.
    x0 += x5; x15 = rotl(x15 ^ x0, 16); x10 += x15; x5 = rotl(x5 ^ x10, 12); x0 += x5; x15 = rotl(x15 ^ x0, 8); x10 += x15; x5 = rotl(x5 ^ x10, 7);
    x1 += x6; x12 = rotl(x12 ^ x1, 16); x11 += x12; x6 = rotl(x6 ^ x11, 12); x1 += x6; x12 = rotl(x12 ^ x1, 8); x11 += x12; x6 = rotl(x6 ^ x11, 7);
    x2 += x7; x13 = rotl(x13 ^ x2, 16); x8 += x13; x7 = rotl(x7 ^ x8, 12); x2 += x7; x13 = rotl(x13 ^ x2, 8); x8 += x13; x7 = rotl(x7 ^ x8, 7);
    x3 += x4; x14 = rotl(x14 ^ x3, 16); x9 += x14; x4 = rotl(x4 ^ x9, 12); x3 += x4; x14 = rotl(x14 ^ x3, 8); x9 += x14; x4 = rotl(x4 ^ x9, 7);
  }
  store<u32>(KEYSTREAM, x0 + s0); store<u32>(KEYSTREAM, x1 + s1, 4); store<u32>(KEYSTREAM, x2 + s2, 8); store<u32>(KEYSTREAM, x3 + s3, 12);
  store<u32>(KEYSTREAM, x4 + s4, 16); store<u32>(KEYSTREAM, x5 + s5, 20); store<u32>(KEYSTREAM, x6 + s6, 24); store<u32>(KEYSTREAM, x7 + s7, 28);
  store<u32>(KEYSTREAM, x8 + s8, 32); store<u32>(KEYSTREAM, x9 + s9, 36); store<u32>(KEYSTREAM, x10 + s10, 40); store<u32>(KEYSTREAM, x11 + s11, 44);
  store<u32>(KEYSTREAM, x12 + s12, 48); store<u32>(KEYSTREAM, x13 + s13, 52); store<u32>(KEYSTREAM, x14 + s14, 56); store<u32>(KEYSTREAM, x15 + s15, 60);
}

/** XORs `len` bytes at `ptr` in place with the keystream from block 0 (encrypts or decrypts). */
export function chachaXor(ptr: usize, len: usize): void {
  let counter: u32 = 0;
  for (let at: usize = 0; at < len; at += 64) {
    chachaBlock(counter++);
    const n = min<usize>(64, len - at);
    let i: usize = 0;
    for (; i + 4 <= n; i += 4) store<u32>(ptr + at + i, load<u32>(ptr + at + i) ^ load<u32>(KEYSTREAM + i));
    for (; i < n; i++) store<u8>(ptr + at + i, load<u8>(ptr + at + i) ^ load<u8>(KEYSTREAM + i));
  }
}
