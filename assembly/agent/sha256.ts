// SHA-256 (FIPS 180-4), streaming, over contexts in linear memory so that
// the LOAD digest and the HMAC of a frame can run at the same time.

// Context layout.
const H: usize = 0; // 8 x u32 chaining state
const BLOCK: usize = 32; // 64-byte partial block
const LENGTH: usize = 96; // u64 message bytes so far
const FILL: usize = 104; // u32 bytes in BLOCK
export const SHA256_CTX_BYTES: usize = 112;
export const SHA256_BYTES: usize = 32;

const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV: usize = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const SCHEDULE: usize = memory.data(64 * 4, 4);

export function sha256Init(ctx: usize): void {
  memory.copy(ctx + H, IV, 32);
  store<u64>(ctx + LENGTH, 0);
  store<u32>(ctx + FILL, 0);
}

// @ts-ignore: decorator
@inline function rotr(x: u32, n: u32): u32 {
  return (x >>> n) | (x << (32 - n));
}

function compress(ctx: usize, block: usize): void {
  for (let t: usize = 0; t < 16; t++) store<u32>(SCHEDULE + (t << 2), bswap<u32>(load<u32>(block + (t << 2))));
  for (let t: usize = 16; t < 64; t++) {
    const w15 = load<u32>(SCHEDULE + ((t - 15) << 2));
    const w2 = load<u32>(SCHEDULE + ((t - 2) << 2));
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
    store<u32>(SCHEDULE + (t << 2), load<u32>(SCHEDULE + ((t - 16) << 2)) + s0 + load<u32>(SCHEDULE + ((t - 7) << 2)) + s1);
  }
  let a = load<u32>(ctx, 0), b = load<u32>(ctx, 4), c = load<u32>(ctx, 8), d = load<u32>(ctx, 12);
  let e = load<u32>(ctx, 16), f = load<u32>(ctx, 20), g = load<u32>(ctx, 24), h = load<u32>(ctx, 28);
  for (let t: usize = 0; t < 64; t++) {
    const t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(K + (t << 2)) + load<u32>(SCHEDULE + (t << 2));
    const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(ctx, load<u32>(ctx, 0) + a, 0);
  store<u32>(ctx, load<u32>(ctx, 4) + b, 4);
  store<u32>(ctx, load<u32>(ctx, 8) + c, 8);
  store<u32>(ctx, load<u32>(ctx, 12) + d, 12);
  store<u32>(ctx, load<u32>(ctx, 16) + e, 16);
  store<u32>(ctx, load<u32>(ctx, 20) + f, 20);
  store<u32>(ctx, load<u32>(ctx, 24) + g, 24);
  store<u32>(ctx, load<u32>(ctx, 28) + h, 28);
}

export function sha256Update(ctx: usize, ptr: usize, len: usize): void {
  store<u64>(ctx + LENGTH, load<u64>(ctx + LENGTH) + <u64>len);
  let fill = <usize>load<u32>(ctx + FILL);
  let i: usize = 0;
  if (fill > 0) {
    const take = min<usize>(64 - fill, len);
    memory.copy(ctx + BLOCK + fill, ptr, take);
    fill += take;
    i = take;
    if (fill < 64) {
      store<u32>(ctx + FILL, <u32>fill);
      return;
    }
    compress(ctx, ctx + BLOCK);
  }
  for (; i + 64 <= len; i += 64) compress(ctx, ptr + i);
  memory.copy(ctx + BLOCK, ptr + i, len - i);
  store<u32>(ctx + FILL, <u32>(len - i));
}

/** Writes the 32-byte digest to `out`; the context must be re-initialized before reuse. */
export function sha256Final(ctx: usize, out: usize): void {
  const bits = load<u64>(ctx + LENGTH) << 3;
  let fill = <usize>load<u32>(ctx + FILL);
  store<u8>(ctx + BLOCK + fill, 0x80);
  fill++;
  if (fill > 56) {
    memory.fill(ctx + BLOCK + fill, 0, 64 - fill);
    compress(ctx, ctx + BLOCK);
    fill = 0;
  }
  memory.fill(ctx + BLOCK + fill, 0, 56 - fill);
  store<u64>(ctx + BLOCK + 56, bswap<u64>(bits));
  compress(ctx, ctx + BLOCK);
  for (let t: usize = 0; t < 8; t++) store<u32>(out + (t << 2), bswap<u32>(load<u32>(ctx + (t << 2))));
}
