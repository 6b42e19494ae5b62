// CRC-32 (IEEE 802.3 / zlib) with the parameters of spec/abi.json: reflected
// polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF. The table is
// built once by crc32Init.
import { CRC32_POLY } from "./protocol.generated";

const TABLE: usize = memory.data(256 * 4, 4);

export function crc32Init(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? CRC32_POLY ^ (c >>> 1) : c >>> 1;
    store<u32>(TABLE + (<usize>n << 2), c);
  }
}

/** Feeds `len` bytes at `ptr` into a running CRC (start with 0xFFFFFFFF, end by xor 0xFFFFFFFF). */
export function crc32Update(crc: u32, ptr: usize, len: usize): u32 {
  let c = crc;
  for (let i: usize = 0; i < len; i++) {
    c = load<u32>(TABLE + (<usize>((c ^ load<u8>(ptr + i)) & 0xff) << 2)) ^ (c >>> 8);
  }
  return c;
}

// @ts-ignore: decorator
@inline export function crc32Byte(crc: u32, b: u32): u32 {
  return load<u32>(TABLE + (<usize>((crc ^ b) & 0xff) << 2)) ^ (crc >>> 8);
}
