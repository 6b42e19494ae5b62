import { describe, expect, it } from 'vitest';
import { extractBox, insertBox } from '../host/run/boxes.ts';

describe('extractBox / insertBox', () => {
  // A 1x3x4x2 NHWC tensor whose value is its own flat index.
  const shape = [1, 3, 4, 2];
  const whole = Int8Array.from({ length: 24 }, (_, i) => i);

  it('cuts a tile with all channels', () => {
    const tile = extractBox(whole, shape, { start: [0, 1, 1, 0], end: [1, 3, 3, 2] });
    expect(Array.from(tile)).toEqual([10, 11, 12, 13, 18, 19, 20, 21]);
  });

  it('cuts a channel range', () => {
    const tile = extractBox(whole, shape, { start: [0, 0, 0, 1], end: [1, 1, 4, 2] });
    expect(Array.from(tile)).toEqual([1, 3, 5, 7]);
  });

  it('stitches a partition back into the whole tensor', () => {
    const target = new Int8Array(24);
    const boxes = [
      { start: [0, 0, 0, 0], end: [1, 2, 4, 2] },
      { start: [0, 2, 0, 0], end: [1, 3, 3, 2] },
      { start: [0, 2, 3, 0], end: [1, 3, 4, 2] },
    ];
    for (const b of boxes) insertBox(target, shape, b, extractBox(whole, shape, b));
    expect(target).toEqual(whole);
  });

  it('moves a scalar (rank 0)', () => {
    const target = new Int8Array(1);
    insertBox(target, [], { start: [], end: [] }, extractBox(Int8Array.of(-7), [], { start: [], end: [] }));
    expect(target[0]).toBe(-7);
  });

  it('keeps the element type', () => {
    const wide = Int32Array.from({ length: 6 }, (_, i) => i * 1000);
    const part = extractBox(wide, [6], { start: [2], end: [4] });
    expect(part).toBeInstanceOf(Int32Array);
    expect(Array.from(part)).toEqual([2000, 3000]);
  });

  it.each([
    ['end beyond the tensor', { start: [0, 0, 0, 0], end: [1, 4, 4, 2] }],
    ['start after end', { start: [0, 2, 0, 0], end: [1, 1, 4, 2] }],
    ['wrong rank', { start: [0, 0], end: [1, 1] }],
  ])('refuses a box with %s', (_name, box) => {
    expect(() => extractBox(whole, shape, box)).toThrow(RangeError);
  });

  it('refuses values of the wrong length', () => {
    expect(() => insertBox(new Int8Array(24), shape, { start: [0, 0, 0, 0], end: [1, 1, 1, 2] }, new Int8Array(3))).toThrow(
      /holds 2 values, got 3/,
    );
  });
});
