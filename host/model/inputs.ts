// Input files -> the data of one graph input tensor, chosen by extension:
//   .bin   the tensor's raw bytes in its dtype (little-endian)
//   .json  an array (nested or flat) of numbers
//   .npy   a NumPy array (float64/int64 narrowed and range-checked; uint8 into int8 like image bytes)
//   .bmp   an 8-bit grayscale BMP;  .pgm  a binary (P5) 8-bit PGM
// Images fill int8 inputs only, rows top-down, one byte per pixel, in one of
// two conventions (`PixelMode`): 'raw', the bytes unchanged (byte b is int8
// b-256 when b >= 128) as TFLM's person_detect example feeds its camera; or
// 'minus128', q = b - 128, for models whose input quantization maps it to
// b/255 (scale 1/255, zero point -128: microsplit's MNIST models).
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { numElements, tensorBytes, type DType, type Tensor, type TensorData } from './ir.ts';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export const INPUT_FORMATS = ['.bin', '.json', '.npy', '.bmp', '.pgm'] as const;

export type PixelMode = 'raw' | 'minus128';
export const PIXEL_MODES: readonly PixelMode[] = ['raw', 'minus128'];

/** The input files in `dir` (by extension), sorted by name. Throws one line when there are none. */
export function inputFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new InputError(`${dir}: cannot read the input directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const files = names.filter((n) => (INPUT_FORMATS as readonly string[]).includes(extname(n).toLowerCase())).sort();
  if (files.length === 0) throw new InputError(`${dir}: no input files (${INPUT_FORMATS.join(', ')})`);
  return files.map((n) => join(dir, n));
}

/** Reads `path` as the value of `tensor` (a graph input). Throws an InputError of one line naming the file. */
export function readInput(path: string, tensor: Tensor, pixels: PixelMode = 'raw'): TensorData {
  const ext = extname(path).toLowerCase();
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read input file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    switch (ext) {
      case '.bin':
        return fromBin(bytes, tensor);
      case '.json':
        return fromNumbers(parseJsonNumbers(bytes), tensor);
      case '.npy':
        return fromNpy(bytes, tensor, pixels);
      case '.bmp':
        return fromImage(bmpPixels(bytes), tensor, pixels);
      case '.pgm':
        return fromImage(pgmPixels(bytes), tensor, pixels);
      default:
        throw new Error(`unknown input format "${ext}" (expected one of ${INPUT_FORMATS.join(', ')})`);
    }
  } catch (e) {
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
}

function describe(t: Tensor): string {
  return `input tensor ${t.name} ${t.dtype}[${t.shape}]`;
}

function allocate(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'float32':
      return new Float32Array(n);
  }
}

function fromBin(bytes: Uint8Array, t: Tensor): TensorData {
  const want = tensorBytes(t);
  if (bytes.length !== want) throw new Error(`${bytes.length} bytes, ${describe(t)} needs ${want}`);
  const out = allocate(t.dtype, numElements(t.shape));
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

const INT_RANGE: Record<Exclude<DType, 'float32'>, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/** Numbers into the tensor's dtype; integers must be whole and in range. */
function fromNumbers(values: ArrayLike<number>, t: Tensor): TensorData {
  const n = numElements(t.shape);
  if (values.length !== n) throw new Error(`${values.length} values, ${describe(t)} needs ${n}`);
  const out = allocate(t.dtype, n);
  if (t.dtype !== 'float32') {
    const [lo, hi] = INT_RANGE[t.dtype];
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`value ${v} at index ${i} is not a ${t.dtype}`);
    }
  }
  out.set(values);
  return out;
}

function parseJsonNumbers(bytes: Uint8Array): number[] {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v)) throw new Error('JSON input must be an array of numbers');
  const flat = (v as unknown[]).flat(Infinity);
  const bad = flat.findIndex((x) => typeof x !== 'number');
  if (bad >= 0) throw new Error(`JSON input must hold only numbers; element ${bad} is ${JSON.stringify(flat[bad])}`);
  return flat as number[];
}

/** NumPy's descr codes, little-endian or byte-sized. */
const NPY_TYPES: Record<string, (b: ArrayBuffer) => ArrayLike<number>> = {
  '|i1': (b) => new Int8Array(b),
  '|u1': (b) => new Uint8Array(b),
  '<i2': (b) => new Int16Array(b),
  '<i4': (b) => new Int32Array(b),
  '<i8': (b) => Array.from(new BigInt64Array(b), Number),
  '<f4': (b) => new Float32Array(b),
  '<f8': (b) => new Float64Array(b),
};

function fromNpy(bytes: Uint8Array, t: Tensor, pixels: PixelMode): TensorData {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error('not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [headerLen, headerStart] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  if (headerStart + headerLen > bytes.length) throw new Error('.npy header is truncated');
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`cannot parse .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error('Fortran-ordered .npy arrays are not supported');
  const make = NPY_TYPES[descr];
  if (!make) throw new Error(`.npy dtype ${descr} is not supported (expected one of ${Object.keys(NPY_TYPES).join(' ')})`);
  const shape = shapeText.split(',').filter((s) => s.trim()).map(Number);
  const n = numElements(shape);
  const itemSize = Number(descr.slice(2));
  const dataStart = headerStart + headerLen;
  if (bytes.length - dataStart !== n * itemSize) throw new Error(`.npy data holds ${bytes.length - dataStart} bytes, shape (${shape}) of ${descr} needs ${n * itemSize}`);
  if (n !== numElements(t.shape)) throw new Error(`.npy shape (${shape}) has ${n} values, ${describe(t)} needs ${numElements(t.shape)}`);
  if (descr === '|u1' && t.dtype === 'int8') return bytesAsInt8(bytes.subarray(dataStart), pixels);
  return fromNumbers(make(Uint8Array.from(bytes.subarray(dataStart)).buffer), t); // a copy: aligned, and not a view into a pooled Buffer
}

interface Pixels {
  width: number;
  height: number;
  /** One byte per pixel, rows top-down. */
  pixels: Uint8Array;
}

function fromImage(img: Pixels, t: Tensor, mode: PixelMode): TensorData {
  if (t.dtype !== 'int8') throw new Error(`images go into int8 inputs, not ${describe(t)}; give .json or .npy values instead`);
  const n = numElements(t.shape);
  if (img.width * img.height !== n) throw new Error(`image of ${img.width}x${img.height} pixels, ${describe(t)} needs ${n} values`);
  if (t.shape.length === 4 && (t.shape[1] !== img.height || t.shape[2] !== img.width))
    throw new Error(`image is ${img.width}x${img.height}, ${describe(t)} expects ${t.shape[2]}x${t.shape[1]}`);
  return bytesAsInt8(img.pixels, mode);
}

function bytesAsInt8(bytes: Uint8Array, mode: PixelMode): Int8Array {
  return mode === 'raw' ? new Int8Array(Uint8Array.from(bytes).buffer) : Int8Array.from(bytes, (b) => b - 128);
}

function bmpPixels(b: Uint8Array): Pixels {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 54 || b[0] !== 0x42 || b[1] !== 0x4d) throw new Error('not a BMP file (no "BM" header)');
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  if (bpp !== 8) throw new Error(`BMP has ${bpp} bits per pixel; only 8-bit grayscale is supported`);
  if (compression !== 0) throw new Error(`compressed BMP (method ${compression}) is not supported`);
  const height = Math.abs(rawHeight);
  const stride = Math.ceil(width / 4) * 4;
  if (width <= 0 || height === 0 || dataOffset + stride * height > b.length) throw new Error(`BMP of ${width}x${height} pixels is truncated`);
  const colors = v.getUint32(46, true) || 256;
  if (colors > 256) throw new Error(`BMP palette of ${colors} colors; 8-bit images have at most 256`);
  const palette = 14 + headerSize;
  if (palette + 4 * colors > dataOffset) throw new Error('BMP palette overlaps the pixel data');
  // Palette entries are B, G, R, 0; a grayscale palette has B = G = R.
  const gray = new Uint8Array(256);
  for (let i = 0; i < colors; i++) {
    const [bl, g, r] = [b[palette + 4 * i], b[palette + 4 * i + 1], b[palette + 4 * i + 2]];
    if (bl !== g || g !== r) throw new Error(`BMP palette entry ${i} is not gray (${r},${g},${bl})`);
    gray[i] = r;
  }
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    // Positive height: rows are stored bottom-up.
    const src = dataOffset + stride * (rawHeight > 0 ? height - 1 - y : y);
    for (let x = 0; x < width; x++) pixels[y * width + x] = gray[b[src + x]];
  }
  return { width, height, pixels };
}

function pgmPixels(b: Uint8Array): Pixels {
  // Header: "P5", width, height, maxval, separated by whitespace; '#' starts a comment line.
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < b.length && /\s/.test(String.fromCharCode(b[pos]))) pos++;
      if (b[pos] !== 0x23) break;
      while (pos < b.length && b[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < b.length && !/\s/.test(String.fromCharCode(b[pos]))) pos++;
    return new TextDecoder('latin1').decode(b.subarray(start, pos));
  };
  if (token() !== 'P5') throw new Error('not a binary PGM file (no "P5" header)');
  const [width, height, maxval] = [Number(token()), Number(token()), Number(token())];
  pos++; // the single whitespace byte after maxval
  if (!(width > 0 && height > 0)) throw new Error('PGM header has no valid width and height');
  if (!(maxval > 0 && maxval <= 255)) throw new Error(`PGM maxval ${maxval}; only 8-bit images are supported`);
  if (pos + width * height > b.length) throw new Error(`PGM of ${width}x${height} pixels is truncated`);
  return { width, height, pixels: b.slice(pos, pos + width * height) };
}
