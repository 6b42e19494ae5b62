// Input files into graph input tensors: each format, and each bad file
// refused with one line naming it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInput } from '../host/model/inputs.ts';
import type { Tensor } from '../host/model/ir.ts';

const dir = mkdtempSync(join(tmpdir(), 'microsplit-inputs-'));
function file(name: string, content: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const int8Image: Tensor = { name: 'image', shape: [1, 2, 3, 1], dtype: 'int8', quant: { scale: [1 / 255], zeroPoint: [-128] } };
const float4: Tensor = { name: 'x', shape: [2, 2], dtype: 'float32' };
const int32x3: Tensor = { name: 'ids', shape: [3], dtype: 'int32' };

/** A .npy file: magic, version 1.0, header padded with spaces to a multiple of 64, then the data. */
function npy(descr: string, shape: number[], data: ArrayBufferView): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** An 8-bit BMP with a grayscale palette; rows bottom-up (positive height) unless `topDown`. */
function bmp(width: number, height: number, rows: number[][], topDown = false): Uint8Array {
  const stride = Math.ceil(width / 4) * 4;
  const dataOffset = 14 + 40 + 1024;
  const out = new Uint8Array(dataOffset + stride * height);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, out.length, true);
  v.setUint32(10, dataOffset, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, topDown ? -height : height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 8, true);
  for (let i = 0; i < 256; i++) out.set([i, i, i, 0], 54 + 4 * i);
  rows.forEach((row, y) => out.set(row, dataOffset + stride * (topDown ? y : height - 1 - y)));
  return out;
}

const pixels = [
  [0, 127, 128],
  [200, 255, 1],
];

describe('readInput', () => {
  it('.bin: the tensor`s bytes, little-endian', () => {
    expect(readInput(file('ids.bin', new Uint8Array(Int32Array.from([1, -2, 300000]).buffer)), int32x3)).toEqual(Int32Array.from([1, -2, 300000]));
  });

  it('.json: nested arrays are flattened in row-major order', () => {
    expect(readInput(file('x.json', '[[0.5, -1], [2.25, 3]]'), float4)).toEqual(Float32Array.from([0.5, -1, 2.25, 3]));
  });

  it.each([
    ['<f4 into float32', '<f4', Float32Array.from([1.5, 2, -3, 4]), float4, Float32Array.from([1.5, 2, -3, 4])],
    ['<f8 narrowed to float32', '<f8', Float64Array.from([0.1, 2, -3, 4]), float4, Float32Array.from([0.1, 2, -3, 4])],
    ['<i8 narrowed to int32', '<i8', BigInt64Array.from([7n, -8n, 9n]), int32x3, Int32Array.from([7, -8, 9])],
    ['|u1 into int8 as raw bytes', '|u1', Uint8Array.from([0, 127, 128, 200, 255, 1]), int8Image, Int8Array.from([0, 127, -128, -56, -1, 1])],
  ])('.npy %s', (_, descr, data, tensor, expected) => {
    const shape = tensor.shape.filter((d) => d > 1);
    expect(readInput(file(`a${descr.replace(/\W/g, '')}.npy`, npy(descr, shape, data)), tensor)).toEqual(expected);
  });

  it.each([
    ['bottom-up', false],
    ['top-down', true],
  ])('.bmp (%s rows): pixel bytes into int8 unchanged, rows top-down', (_, topDown) => {
    expect(readInput(file(`img${topDown}.bmp`, bmp(3, 2, pixels, topDown)), int8Image)).toEqual(Int8Array.from([0, 127, -128, -56, -1, 1]));
  });

  it('.pgm with a comment, in the minus128 convention', () => {
    const pgm = new Uint8Array([...new TextEncoder().encode('P5\n# made by hand\n3 2\n255\n'), ...pixels.flat()]);
    expect(readInput(file('img.pgm', pgm), int8Image, 'minus128')).toEqual(Int8Array.from([-128, -1, 0, 72, 127, -127]));
  });

  it.each([
    ['a .bin of the wrong size', () => file('short.bin', new Uint8Array(5)), int32x3, /short\.bin: 5 bytes, input tensor ids int32\[3\] needs 12/],
    ['a .json that is not JSON', () => file('bad.json', '[1, 2,'), float4, /bad\.json: not valid JSON/],
    ['a .json with a string', () => file('str.json', '[1, "2", 3]'), int32x3, /str\.json: JSON input must hold only numbers; element 1 is "2"/],
    ['a .json of the wrong length', () => file('len.json', '[1, 2]'), int32x3, /len\.json: 2 values, input tensor ids int32\[3\] needs 3/],
    ['an int out of range', () => file('big.json', '[1, 2, 3000000000]'), int32x3, /big\.json: value 3000000000 at index 2 is not a int32/],
    ['a fraction for an int tensor', () => file('frac.json', '[1, 2.5, 3]'), int32x3, /frac\.json: value 2.5 at index 1 is not a int32/],
    ['a .npy of another shape', () => file('shape.npy', npy('<f4', [5], new Float32Array(5))), float4, /shape\.npy: \.npy shape \(5\) has 5 values, input tensor x float32\[2,2\] needs 4/],
    ['a .npy of an unsupported dtype', () => file('c.npy', npy('<c8', [2], new Float32Array(4))), float4, /c\.npy: \.npy dtype <c8 is not supported/],
    ['an image of another size', () => file('big.bmp', bmp(4, 2, [[1, 2, 3, 4], [5, 6, 7, 8]])), int8Image, /big\.bmp: image of 4x2 pixels, input tensor image int8\[1,2,3,1\] needs 6 values/],
    ['a 24-bit BMP', () => file('rgb.bmp', Uint8Array.from(bmp(3, 2, pixels), (b, i) => (i === 28 ? 24 : b))), int8Image, /rgb\.bmp: BMP has 24 bits per pixel; only 8-bit grayscale is supported/],
    ['an image for a float input', () => file('f.bmp', bmp(2, 2, [[1, 2], [3, 4]])), float4, /f\.bmp: images go into int8 inputs, not input tensor x float32\[2,2\]/],
    ['a 16-bit PGM', () => file('deep.pgm', 'P5 3 2 65535\n' + 'x'.repeat(12)), int8Image, /deep\.pgm: PGM maxval 65535; only 8-bit images are supported/],
    ['an unknown extension', () => file('x.txt', '1 2 3'), int32x3, /x\.txt: unknown input format "\.txt"/],
  ])('%s: one line naming the file', (_, make, tensor, message) => {
    expect(() => readInput(make(), tensor)).toThrow(message);
  });
});
