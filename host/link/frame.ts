// Framing of docs/protocol.md section 1: payload | CRC-32, COBS-encoded,
// 0x00-delimited. Pure functions and a streaming decoder; no I/O.
import { CRC32_INIT, CRC32_POLY, CRC32_XOROUT } from '../abi/abi.generated.ts';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? CRC32_POLY ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3 / zlib): reflected 0xEDB88320, init and final xor 0xFFFFFFFF. */
export function crc32(bytes: Uint8Array): number {
  let c = CRC32_INIT;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ CRC32_XOROUT) >>> 0;
}

/** Worst-case COBS-encoded size of `n` bytes, without the delimiter. */
export function cobsMaxEncodedSize(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

export function cobsEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedSize(src.length));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b !== 0) {
      out[o++] = b;
      code++;
    }
    // A full block ends without an implied zero; canonical COBS opens no new
    // block after the last byte.
    if (b === 0 || (code === 0xff && i < src.length - 1)) {
      out[codeAt] = code;
      code = 1;
      codeAt = o++;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS block sequence (no delimiter inside); null if malformed. */
export function cobsDecode(src: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(src.length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const code = src[i++];
    if (code === 0 || i + code - 1 > src.length) return null;
    for (let k = 1; k < code; k++) out[o++] = src[i++];
    // A block shorter than 255 stands for "data then a zero", except the last.
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/** Wire bytes of one frame: COBS(payload | CRC-32 LE) then 0x00. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(payload.length + 4);
  body.set(payload);
  new DataView(body.buffer).setUint32(payload.length, crc32(payload), true);
  const enc = cobsEncode(body);
  const wire = new Uint8Array(enc.length + 1);
  wire.set(enc);
  return wire;
}

/** Wire size of a frame carrying `payloadBytes` (worst case), delimiter included. */
export function frameWireSize(payloadBytes: number): number {
  return cobsMaxEncodedSize(payloadBytes + 4) + 1;
}

export interface FrameDecoderOptions {
  /** Largest decoded payload (CRC excluded) accepted; longer frames are dropped. */
  maxPayload: number;
}

export interface FrameDecoderStats {
  /** Frames whose bytes were not valid COBS or whose CRC did not match. */
  corrupt: number;
  /** Frames dropped for exceeding maxPayload. */
  oversized: number;
}

/**
 * Streaming frame decoder. Push any chunks; get back every payload whose CRC
 * matched. It buffers at most the encoded size of a maximal frame: line noise
 * without delimiters cannot grow it.
 */
export class FrameDecoder {
  readonly maxPayload: number;
  readonly stats: FrameDecoderStats = { corrupt: 0, oversized: 0 };
  private readonly buf: Uint8Array;
  private len = 0;
  private overflow = false;

  constructor(options: FrameDecoderOptions) {
    const { maxPayload } = options;
    if (!Number.isInteger(maxPayload) || maxPayload < 1 || maxPayload > 1 << 26) {
      throw new RangeError(`FrameDecoder: maxPayload must be an integer in 1..${1 << 26}, got ${maxPayload}`);
    }
    this.maxPayload = maxPayload;
    this.buf = new Uint8Array(cobsMaxEncodedSize(maxPayload + 4));
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0) continue;
      this.append(chunk.subarray(start, i));
      const f = this.finish();
      if (f) frames.push(f);
      start = i + 1;
    }
    this.append(chunk.subarray(start));
    return frames;
  }

  private append(bytes: Uint8Array): void {
    if (this.overflow) return;
    if (this.len + bytes.length > this.buf.length) {
      this.overflow = true;
      return;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private finish(): Uint8Array | null {
    const len = this.len;
    const overflow = this.overflow;
    this.len = 0;
    this.overflow = false;
    if (overflow) {
      this.stats.oversized++;
      return null;
    }
    if (len === 0) return null; // back-to-back delimiters
    const body = cobsDecode(this.buf.subarray(0, len));
    if (!body || body.length < 5) {
      this.stats.corrupt++;
      return null;
    }
    const n = body.length - 4;
    if (n > this.maxPayload) {
      this.stats.oversized++;
      return null;
    }
    const payload = body.slice(0, n);
    const want = new DataView(body.buffer, body.byteOffset + n, 4).getUint32(0, true);
    if (crc32(payload) !== want) {
      this.stats.corrupt++;
      return null;
    }
    return payload;
  }
}
