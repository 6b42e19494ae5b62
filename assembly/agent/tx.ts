// Frame writer: streams version | message | CRC-32 through a COBS encoder to
// the link, so a RESULT of any size needs no frame buffer. Output is staged
// and handed to linkWrite in pieces.
import { linkWrite } from "./host";
import { crc32Byte } from "./crc32";
import { PROTOCOL_VERSION, CRC32_INIT, CRC32_XOROUT } from "./protocol.generated";

const STAGE_BYTES: usize = 512;
const STAGE: usize = memory.data(<i32>STAGE_BYTES, 4);
// One COBS block: its code byte at BLOCK, up to 254 data bytes after it.
const BLOCK: usize = memory.data(256, 4);

let staged: usize = 0;
let blockLen: usize = 0;
let crc: u32 = 0;

function stage(ptr: usize, len: usize): void {
  if (staged + len > STAGE_BYTES) {
    linkWrite(STAGE, staged);
    staged = 0;
  }
  memory.copy(STAGE + staged, ptr, len);
  staged += len;
}

function flushBlock(): void {
  store<u8>(BLOCK, <u8>(blockLen + 1));
  stage(BLOCK, blockLen + 1);
  blockLen = 0;
}

function cobsByte(b: u32): void {
  // A full block is flushed only when another byte follows, so a frame ending
  // on a full block gets no extra empty block (canonical COBS).
  if (blockLen == 254) flushBlock();
  if (b == 0) {
    flushBlock();
    return;
  }
  store<u8>(BLOCK + 1 + blockLen, <u8>b);
  blockLen++;
}

export function txBegin(): void {
  staged = 0;
  blockLen = 0;
  crc = CRC32_INIT;
  txByte(PROTOCOL_VERSION);
}

export function txByte(b: u32): void {
  crc = crc32Byte(crc, b);
  cobsByte(b);
}

export function txBytes(ptr: usize, len: usize): void {
  for (let i: usize = 0; i < len; i++) txByte(load<u8>(ptr + i));
}

/** Appends the CRC, closes the COBS block, writes the delimiter, flushes. */
export function txEnd(): void {
  const c = crc ^ CRC32_XOROUT;
  for (let i: u32 = 0; i < 4; i++) cobsByte((c >>> (i * 8)) & 0xff);
  flushBlock();
  store<u8>(BLOCK, 0);
  stage(BLOCK, 1);
  linkWrite(STAGE, staged);
  staged = 0;
}
