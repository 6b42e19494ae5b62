// Frame writer: streams version | message | CRC-32 through a COBS encoder to
// the link, so a RESULT of any size needs no frame buffer. Output is staged
// and handed to linkWrite in pieces. A keyed device's reply is also streamed
// through an HMAC, whose tag ends the message (docs/protocol.md section 4).
import { linkWrite } from "./host";
import { crc32Byte } from "./crc32";
import { hmacBegin, hmacFinish } from "./hmac";
import { sha256Update, SHA256_CTX_BYTES } from "./sha256";
import { PROTOCOL_VERSION, CRC32_INIT, CRC32_XOROUT } from "./protocol.generated";

const STAGE_BYTES: usize = 512;
const STAGE: usize = memory.data(<i32>STAGE_BYTES, 4);
// One COBS block: its code byte at BLOCK, up to 254 data bytes after it.
const BLOCK: usize = memory.data(256, 4);

const MAC_CTX: usize = memory.data(<i32>SHA256_CTX_BYTES, 8);
// Bytes for the HMAC are gathered into whole SHA-256 blocks.
const MAC_BUF: usize = memory.data(64, 4);
const MAC_OUT: usize = memory.data(32, 4);
let macOn = false;
let macFill: usize = 0;

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

function macByte(b: u32): void {
  store<u8>(MAC_BUF + macFill++, <u8>b);
  if (macFill == 64) {
    sha256Update(MAC_CTX, MAC_BUF, 64);
    macFill = 0;
  }
}

/** Starts a frame; `tagged`: the message is also fed to the HMAC, and must end with txTag. */
export function txBegin(tagged: bool = false): void {
  staged = 0;
  blockLen = 0;
  crc = CRC32_INIT;
  macOn = tagged;
  macFill = 0;
  if (tagged) hmacBegin(MAC_CTX);
  txByte(PROTOCOL_VERSION);
}

export function txByte(b: u32): void {
  crc = crc32Byte(crc, b);
  cobsByte(b);
  if (macOn) macByte(b);
}

/**
 * Writes the 32 tag bytes whose CBOR head was just written: the HMAC over
 * the message so far, 32 zero bytes in their place, then `bindLen` bytes at
 * `bind` (what ties the reply to its request) that are not sent.
 */
export function txTag(bind: usize, bindLen: usize): void {
  for (let i = 0; i < 32; i++) macByte(0);
  for (let i: usize = 0; i < bindLen; i++) macByte(load<u8>(bind + i));
  sha256Update(MAC_CTX, MAC_BUF, macFill);
  hmacFinish(MAC_CTX, MAC_OUT);
  macOn = false;
  txBytes(MAC_OUT, 32);
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
