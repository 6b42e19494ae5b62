import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INT32_MAX,
  INT32_MIN,
  activationRange,
  addScaling,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  quantizeMultiplierGreaterThanOne,
  quantizeMultiplierSmallerThanOneExp,
  rdbp,
  softmaxScaling,
  srdhm,
} from '../host/model/arith.ts';

// Independent models in BigInt, written from the definitions in ARITHMETIC.md
// section 3 (nudge then truncating division; shift, then add one above a threshold).
function srdhmBig(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const p = BigInt(a) * BigInt(b);
  const nudge = p >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((p + nudge) / (1n << 31n)); // BigInt division truncates, like C
}
function rdbpExact(x: number, n: number): number {
  // Round x / 2^n to nearest, ties away from zero, on exact rationals.
  const d = 2 ** n;
  const q = Math.trunc(x / d);
  const twiceRem = 2 * Math.abs(x - q * d);
  return twiceRem >= d ? q + Math.sign(x) : q;
}

const int32 = fc.oneof(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.constantFrom(INT32_MIN, INT32_MAX, 0, 1, -1, 1 << 30, -(1 << 30)));

describe('SaturatingRoundingDoublingHighMul', () => {
  it.each([
    [-1, -0.5, 0],
    [-3, -1.5, -1],
    [1, 0.5, 1],
    [3, 1.5, 2],
  ])('SRDHM(%i, 2^30) = %s rounded with ties toward +infinity = %i', (x, _exact, want) => {
    expect(srdhm(x, 2 ** 30)).toBe(want);
  });

  it('saturates only INT32_MIN * INT32_MIN', () => {
    expect(srdhm(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
    expect(srdhm(INT32_MIN, INT32_MAX)).toBe(-INT32_MAX);
  });

  it('equals the exact 64-bit definition on random int32 pairs', () => {
    fc.assert(fc.property(int32, int32, (a, b) => srdhm(a, b) === srdhmBig(a, b)), { numRuns: 20000 });
  });
});

describe('RoundingDivideByPOT', () => {
  it.each([
    [1, 1, 1],
    [-1, 1, -1],
    [3, 1, 2],
    [-3, 1, -2],
  ])('RDBP(%i, %i) = %i (ties away from zero)', (x, n, want) => {
    expect(rdbp(x, n)).toBe(want);
  });

  it('rounds x / 2^n to nearest with ties away from zero for every exponent 0..31', () => {
    fc.assert(
      fc.property(int32, fc.integer({ min: 0, max: 31 }), (x, n) => rdbp(x, n) === rdbpExact(x, n)),
      { numRuns: 20000 },
    );
  });

  it('refuses exponents outside [0, 31]', () => {
    expect(() => rdbp(1, 32)).toThrow(/exponent 32/);
  });
});

describe('MultiplyByQuantizedMultiplier (double rounding)', () => {
  it('rounds twice: eff 0.25 on x = 5 gives 2 where 1.25 rounds once to 1', () => {
    const { multiplier, shift } = quantizeMultiplier(0.25);
    expect([multiplier, shift]).toEqual([2 ** 30, -1]);
    expect(multiplyByQuantizedMultiplier(5, multiplier, shift)).toBe(2);
  });

  it('shifts left first for multipliers above one', () => {
    // eff 2.0 = 2^30 * 2^(2-31): (x << 2) halved.
    expect(multiplyByQuantizedMultiplier(7, 2 ** 30, 2)).toBe(14);
  });
});

describe('QuantizeMultiplier', () => {
  it.each([
    ['zero', 0, 0, 0],
    ['0.5', 0.5, 2 ** 30, 0],
    ['2.0', 2.0, 2 ** 30, 2],
    ['just below 2^-32 is flushed', 2 ** -32 * 0.99, 0, 0],
    ['2^-32 keeps shift -31', 2 ** -32, 2 ** 30, -31],
    ['a mantissa rounding up to 2^31 is renormalised', 1 - 2 ** -40, 2 ** 30, 1],
  ])('%s', (_name, real, multiplier, shift) => {
    expect(quantizeMultiplier(real)).toEqual({ multiplier, shift });
  });

  it('gives M in [2^30, 2^31) within half a unit of the real multiplier', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -31, max: 2 ** 20, noNaN: true }), (real) => {
        const { multiplier: m, shift: e } = quantizeMultiplier(real);
        const unit = 2 ** (e - 31);
        return m >= 2 ** 30 && m < 2 ** 31 && Math.abs(m * unit - real) <= unit / 2;
      }),
    );
  });

  it('refuses multipliers outside the range of the Smaller/Greater variants', () => {
    expect(() => quantizeMultiplierSmallerThanOneExp(1)).toThrow(/not in \(0, 1\)/);
    expect(() => quantizeMultiplierGreaterThanOne(0.5)).toThrow(/not above 1/);
  });
});

describe('set-up helpers', () => {
  it('softmax: input scale 0.1f and beta 1 give 1717986944, 23, -248 (ARITHMETIC.md section 9)', () => {
    expect(softmaxScaling(1, 0.10000000149011612)).toEqual({ inputMultiplier: 1717986944, inputLeftShift: 23, diffMin: -248 });
  });

  it('softmax: the cap at 2^31 - 1 gives left shift 31 and diff_min 0', () => {
    expect(softmaxScaling(1, 64)).toEqual({ inputMultiplier: INT32_MAX, inputLeftShift: 31, diffMin: 0 });
  });

  it('ADD refuses an output scale too small for its inputs', () => {
    expect(() => addScaling(1, 1, 2 ** -21)).toThrow(/output scale .* too small/);
  });

  it.each([
    { act: 'NONE', scale: 0.5, zp: 3, want: [-128, 127] },
    { act: 'RELU', scale: 0.5, zp: -100, want: [-100, 127] },
    { act: 'RELU6', scale: 0.05, zp: -128, want: [-128, -8] },
    { act: 'RELU_N1_TO_1', scale: 0.5, zp: 0, want: [-2, 2] },
    { act: 'RELU6', scale: 0.01, zp: 100, want: [100, 127] },
  ] as const)('activation range $act, scale $scale, zero point $zp is $want', ({ act, scale, zp, want }) => {
    expect(activationRange(act, scale, zp)).toEqual(want);
  });
});
