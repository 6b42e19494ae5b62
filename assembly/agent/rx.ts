// Streaming COBS decoder for received frames. Bytes go straight into a
// frame buffer of the receive window's size; a frame longer than the window
// on the wire is dropped whole, so the buffer never grows past it.
import { crc32Update } from "./crc32";
import { CRC32_INIT, CRC32_XOROUT } from "./protocol.generated";

export const RX_NOTHING: i32 = 0;
/** A frame with a good CRC is in the buffer: [frameStart, frameStart + frameLen). */
export const RX_FRAME: i32 = 1;
/** A frame failed COBS or its CRC, and was dropped. */
export const RX_CORRUPT: i32 = 2;
/** A frame longer than the window was dropped. */
export const RX_OVERSIZED: i32 = 3;

let buf: usize = 0;
let window: usize = 0;
let len: usize = 0;
let wire: usize = 0;
let codeLeft: u32 = 0;
let lastCode: u32 = 0;

export let frameStart: usize = 0;
/** Bytes of version | message, CRC excluded. */
export let frameLen: usize = 0;

export function rxInit(buffer: usize, windowBytes: usize): void {
  buf = buffer;
  window = windowBytes;
  frameStart = buffer;
  rxClear();
}

function rxClear(): void {
  len = 0;
  wire = 0;
  codeLeft = 0;
  lastCode = 0xff; // no zero before the first block
}

export function rxByte(b: u32): i32 {
  if (b == 0) return finish();
  // The window counts wire bytes, delimiter included; the count saturates at
  // the window so endless noise cannot wrap it.
  if (wire >= window) return RX_NOTHING;
  wire++;
  if (wire >= window) return RX_NOTHING;
  if (codeLeft == 0) {
    if (lastCode != 0xff) put(0);
    lastCode = b;
    codeLeft = b - 1;
  } else {
    put(b);
    codeLeft--;
  }
  return RX_NOTHING;
}

// @ts-ignore: decorator
@inline function put(b: u32): void {
  // Decoded bytes never outnumber wire bytes, so len < window here.
  store<u8>(buf + len++, <u8>b);
}

function finish(): i32 {
  const w = wire;
  const n = len;
  const truncated = codeLeft != 0;
  rxClear();
  if (w == 0) return RX_NOTHING; // delimiters back to back
  if (w >= window) return RX_OVERSIZED;
  if (truncated || n < 6) return RX_CORRUPT;
  const body = n - 4;
  const want = load<u8>(buf + body) | (<u32>load<u8>(buf + body + 1) << 8) | (<u32>load<u8>(buf + body + 2) << 16) | (<u32>load<u8>(buf + body + 3) << 24);
  if ((crc32Update(CRC32_INIT, buf, body) ^ CRC32_XOROUT) != want) return RX_CORRUPT;
  frameLen = body;
  return RX_FRAME;
}
