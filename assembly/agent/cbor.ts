// The CBOR subset of the protocol (RFC 8949): definite-length maps with
// small uint keys, uints and negative ints up to 32 bits, byte and text
// strings, arrays. Reading fills a fixed table of the message's fields by key
// (0..23); writing streams to the frame writer.
import { txByte, txBytes } from "./tx";

export const MAJOR_UINT: u32 = 0;
export const MAJOR_NEG: u32 = 1;
export const MAJOR_BYTES: u32 = 2;
export const MAJOR_TEXT: u32 = 3;
export const MAJOR_ARRAY: u32 = 4;
export const MAJOR_MAP: u32 = 5;
/** A uint or negative int too large for 32 bits. */
const KIND_BIG: u32 = 8;
const ABSENT: u32 = 0xff;

const MAX_KEY: u32 = 23;
const KIND: usize = memory.data(24, 4);
const VALUE: usize = memory.data(24 * 4, 4);
const DATA: usize = memory.data(24 * 4, 4);

// The last head read.
let headMajor: u32 = 0;
let headArg: u64 = 0;

/** Reads one item head at p (< end); returns the address after it, or 0 if malformed. */
function readHead(p: usize, end: usize): usize {
  if (p >= end) return 0;
  const ib = <u32>load<u8>(p);
  headMajor = ib >>> 5;
  const info = ib & 31;
  if (headMajor >= 6) return 0; // tags, floats, simple values: not in the protocol
  if (info < 24) {
    headArg = info;
    return p + 1;
  }
  if (info > 27) return 0; // reserved, or indefinite length
  const n: usize = <usize>1 << (info - 24);
  if (p + 1 + n > end) return 0;
  let v: u64 = 0;
  for (let i: usize = 0; i < n; i++) v = (v << 8) | <u64>load<u8>(p + 1 + i);
  headArg = v;
  return p + 1 + n;
}

/** Skips `count` whole items from p; returns the address after them, or 0 if malformed. */
function skipItems(p: usize, end: usize, count: u64): usize {
  let remaining = count;
  while (remaining > 0) {
    // Every item takes at least one byte: more pending items than bytes is malformed.
    if (remaining > <u64>(end - p)) return 0;
    p = readHead(p, end);
    if (p == 0) return 0;
    remaining--;
    if (headMajor == MAJOR_BYTES || headMajor == MAJOR_TEXT) {
      if (headArg > <u64>(end - p)) return 0;
      p += <usize>headArg;
    } else if (headMajor == MAJOR_ARRAY) {
      remaining += headArg;
    } else if (headMajor == MAJOR_MAP) {
      remaining += headArg * 2;
    }
  }
  return p;
}

/** Parses a message map at [ptr, ptr+len) into the field table; false if it is not one. */
export function parseMap(ptr: usize, len: usize): bool {
  memory.fill(KIND, <u8>ABSENT, 24);
  const end = ptr + len;
  let p = readHead(ptr, end);
  if (p == 0 || headMajor != MAJOR_MAP) return false;
  const entries = headArg;
  if (entries > <u64>len) return false;
  for (let e: u64 = 0; e < entries; e++) {
    const keyAt = p;
    p = skipItems(keyAt, end, 1);
    if (p == 0) return false;
    readHead(keyAt, end);
    const smallKey = headMajor == MAJOR_UINT && headArg <= MAX_KEY;
    const key = <u32>headArg;
    const valueAt = p;
    p = skipItems(valueAt, end, 1);
    if (p == 0) return false;
    if (!smallKey) continue; // other keys are ignored, as the protocol allows
    const dataAt = readHead(valueAt, end);
    let kind = headMajor;
    if ((kind == MAJOR_UINT || kind == MAJOR_NEG) && headArg > 0xffffffff) kind = KIND_BIG;
    store<u8>(KIND + key, <u8>kind);
    store<u32>(VALUE + (<usize>key << 2), <u32>headArg);
    store<u32>(DATA + (<usize>key << 2), <u32>dataAt);
  }
  return p == end;
}

export function isUint(key: u32): bool {
  return <u32>load<u8>(KIND + key) == MAJOR_UINT;
}

export function isBytes(key: u32): bool {
  return <u32>load<u8>(KIND + key) == MAJOR_BYTES;
}

/** The uint value, or a string's length. */
export function value(key: u32): u32 {
  return load<u32>(VALUE + (<usize>key << 2));
}

/** Address of a string's first byte. */
export function dataPtr(key: u32): usize {
  return <usize>load<u32>(DATA + (<usize>key << 2));
}

// Writing.

export function writeHead(major: u32, arg: u32): void {
  const m = major << 5;
  if (arg < 24) {
    txByte(m | arg);
  } else if (arg < 0x100) {
    txByte(m | 24);
    txByte(arg);
  } else if (arg < 0x10000) {
    txByte(m | 25);
    txByte(arg >>> 8);
    txByte(arg & 0xff);
  } else {
    txByte(m | 26);
    txByte(arg >>> 24);
    txByte((arg >>> 16) & 0xff);
    txByte((arg >>> 8) & 0xff);
    txByte(arg & 0xff);
  }
}

export function writeUint(v: u32): void {
  writeHead(MAJOR_UINT, v);
}

/** A map entry with a uint key and a uint value. */
export function writeEntry(key: u32, v: u32): void {
  writeUint(key);
  writeUint(v);
}

export function writeBytes(ptr: usize, len: usize): void {
  writeHead(MAJOR_BYTES, <u32>len);
  txBytes(ptr, len);
}

export function writeTextBytes(ptr: usize, len: usize): void {
  writeHead(MAJOR_TEXT, <u32>len);
  txBytes(ptr, len);
}

/** An ASCII literal as a text string. */
export function writeText(s: string): void {
  writeHead(MAJOR_TEXT, <u32>s.length);
  for (let i = 0; i < s.length; i++) txByte(<u32>s.charCodeAt(i));
}
