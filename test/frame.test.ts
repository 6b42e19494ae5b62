// Framing (host/link/frame.ts): CRC-32 and COBS against published vectors,
// and the streaming decoder, tested like a delimiter parser: tiny literal
// buffers, delimiters split across chunks or leading a buffer, bad options.
import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode, crc32, encodeFrame, FrameDecoder, frameWireSize } from '../host/link/frame.ts';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('crc32', () => {
  it('gives the check value of "123456789" (0xCBF43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('of nothing is 0', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

// The examples of Cheshire & Baker's COBS as tabulated on Wikipedia's "Consistent Overhead Byte Stuffing".
const COBS_VECTORS: [string, Uint8Array, Uint8Array][] = [
  ['one zero', hex('00'), hex('01 01')],
  ['two zeros', hex('00 00'), hex('01 01 01')],
  ['a byte between zeros', hex('00 11 00'), hex('01 02 11 01')],
  ['a zero inside', hex('11 22 00 33'), hex('03 11 22 02 33')],
  ['no zero', hex('11 22 33 44'), hex('05 11 22 33 44')],
  ['trailing zeros', hex('11 00 00 00'), hex('02 11 01 01 01')],
  ['254 non-zero bytes', range(1, 254), Uint8Array.of(0xff, ...range(1, 254))],
  ['a zero then 254 non-zero bytes', range(0, 254), Uint8Array.of(0x01, 0xff, ...range(1, 254))],
  ['255 non-zero bytes', range(1, 255), Uint8Array.of(0xff, ...range(1, 254), 0x02, 0xff)],
  ['254 non-zero bytes then a zero', Uint8Array.of(...range(2, 255), 0), Uint8Array.of(0xff, ...range(2, 255), 0x01, 0x01)],
  ['253 non-zero bytes, a zero, one more', Uint8Array.of(...range(3, 255), 0, 1), Uint8Array.of(0xfe, ...range(3, 255), 0x02, 0x01)],
];

describe('COBS', () => {
  it.each(COBS_VECTORS)('encodes %s', (_, raw, encoded) => {
    expect(cobsEncode(raw)).toEqual(encoded);
  });
  it.each(COBS_VECTORS)('decodes %s', (_, raw, encoded) => {
    expect(cobsDecode(encoded)).toEqual(raw);
  });
  it('refuses a block that runs past the end', () => {
    expect(cobsDecode(hex('05 11 22'))).toBeNull();
  });
});

describe('FrameDecoder', () => {
  const frameA = encodeFrame(hex('01 a0'));
  const frameB = encodeFrame(hex('01 a1 00 02'));

  it('emits one payload per delimited frame, without the CRC', () => {
    const d = new FrameDecoder({ maxPayload: 64 });
    expect(d.push(Uint8Array.of(...frameA, ...frameB))).toEqual([hex('01 a0'), hex('01 a1 00 02')]);
  });

  it('puts together a frame split at every byte', () => {
    const d = new FrameDecoder({ maxPayload: 64 });
    const out = [...frameB].flatMap((b) => d.push(Uint8Array.of(b)));
    expect(out).toEqual([hex('01 a1 00 02')]);
  });

  it('handles a delimiter leading a buffer and delimiters back to back', () => {
    const d = new FrameDecoder({ maxPayload: 64 });
    expect(d.push(frameA.subarray(0, -1))).toEqual([]);
    expect(d.push(Uint8Array.of(0, 0, 0, ...frameB))).toEqual([hex('01 a0'), hex('01 a1 00 02')]);
  });

  it('drops a frame with a wrong CRC and counts it', () => {
    const d = new FrameDecoder({ maxPayload: 64 });
    const bad = frameA.slice();
    bad[1] ^= 0x10;
    expect(d.push(Uint8Array.of(...bad, ...frameB))).toEqual([hex('01 a1 00 02')]);
    expect(d.stats).toEqual({ corrupt: 1, oversized: 0 });
  });

  it('drops a frame too short to hold a CRC', () => {
    const d = new FrameDecoder({ maxPayload: 64 });
    expect(d.push(hex('03 11 22 00'))).toEqual([]);
    expect(d.stats.corrupt).toBe(1);
  });

  it('drops a frame over maxPayload and keeps decoding after it', () => {
    const d = new FrameDecoder({ maxPayload: 8 });
    const big = encodeFrame(new Uint8Array(9).fill(7));
    expect(d.push(Uint8Array.of(...big, ...frameA))).toEqual([hex('01 a0')]);
    expect(d.stats.oversized).toBe(1);
  });

  it('does not grow on line noise without delimiters', () => {
    const d = new FrameDecoder({ maxPayload: 16 });
    for (let i = 0; i < 1000; i++) expect(d.push(new Uint8Array(100).fill(0x42))).toEqual([]);
    expect(d.push(Uint8Array.of(0, ...frameA))).toEqual([hex('01 a0')]);
    expect(d.stats.oversized).toBe(1);
  });

  it.each([0, -1, 1.5, 2 ** 27, NaN])('refuses maxPayload %s', (maxPayload) => {
    expect(() => new FrameDecoder({ maxPayload })).toThrow(/maxPayload must be an integer/);
  });
});

describe('frameWireSize', () => {
  it.each([0, 1, 249, 250, 251, 1000, 4096])('bounds the wire size of a %i-byte payload of non-zero bytes', (n) => {
    expect(encodeFrame(new Uint8Array(n).fill(9)).length).toBeLessThanOrEqual(frameWireSize(n));
  });
});
