// TFLite Micro's integer arithmetic, default build ("double rounding",
// TFLITE_SINGLE_ROUNDING unset), as ../shared/refdata/tflm/ARITHMETIC.md
// states it (section numbers below refer to that note). Every value here is
// an int32 held in a JS number; 64-bit products are computed exactly by
// splitting, never through a double that would lose bits.
//
// Sign convention everywhere in microsplit: a `shift` > 0 is a left shift,
// < 0 a right shift (TFLM's per-channel arrays use the same sign; some of its
// parameter structs store the negation).

import type { Activation } from './ir.ts';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** Round to float32, where TFLM computes in `float`. */
export const f32 = Math.fround;

/** A real multiplier as TFLM's (int32 multiplier, power-of-two shift): real ≈ multiplier * 2^(shift-31). */
export interface QuantizedMultiplier {
  multiplier: number;
  shift: number;
}

/** Integer range of a quantized type. */
export function typeRange(dtype: 'int8' | 'int16' | 'int32'): [number, number] {
  if (dtype === 'int8') return [-128, 127];
  if (dtype === 'int16') return [-32768, 32767];
  return [INT32_MIN, INT32_MAX];
}

/** Round half away from zero (C's std::round / TfLiteRound). */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** frexp: v = m * 2^e with |m| in [0.5, 1); exact (scaling by powers of two). */
function frexp(v: number): { m: number; e: number } {
  let e = Math.ceil(Math.log2(Math.abs(v))) | 0; // | 0 also turns -0 into 0
  let m = v / 2 ** e;
  // log2 can be off by one near powers of two; fix it exactly.
  while (Math.abs(m) >= 1) {
    m /= 2;
    e++;
  }
  while (Math.abs(m) < 0.5) {
    m *= 2;
    e--;
  }
  return { m, e };
}

/** QuantizeMultiplier (section 2), default build. */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!Number.isFinite(real)) throw new RangeError(`quantizeMultiplier: real multiplier ${real} is not finite`);
  if (real === 0) return { multiplier: 0, shift: 0 };
  const { m, e } = frexp(real);
  let q = roundHalfAway(m * 2 ** 31);
  let shift = e;
  if (Math.abs(q) === 2 ** 31) {
    q /= 2;
    shift++;
  }
  // Multipliers below 2^-32 are flushed: the channel then outputs its zero point.
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: q, shift };
}

/** QuantizeMultiplierSmallerThanOneExp (ADD): requires 0 < real < 1, gives shift <= 0. */
export function quantizeMultiplierSmallerThanOneExp(real: number): QuantizedMultiplier {
  if (!(real > 0 && real < 1)) throw new RangeError(`quantizeMultiplierSmallerThanOneExp: real multiplier ${real} is not in (0, 1)`);
  return quantizeMultiplier(real);
}

/** QuantizeMultiplierGreaterThanOne (softmax): requires real > 1, gives shift >= 0. */
export function quantizeMultiplierGreaterThanOne(real: number): QuantizedMultiplier {
  if (!(real > 1)) throw new RangeError(`quantizeMultiplierGreaterThanOne: real multiplier ${real} is not above 1`);
  return quantizeMultiplier(real);
}

/**
 * SaturatingRoundingDoublingHighMul (gemmlowp): the exact 64-bit product
 * a*b divided by 2^31, rounded to nearest with ties toward +infinity.
 * Only INT32_MIN * INT32_MIN saturates (to INT32_MAX).
 */
export function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // Exact p = a*b + nudge as X*2^16 + Y with |X| < 2^47 and |Y| < 2^49.
  const al = a & 0xffff; // a = ah*2^16 + al, al in [0, 65536)
  const ah = (a - al) / 65536;
  const negative = a < 0 !== b < 0 && a !== 0 && b !== 0;
  const nudge = negative ? 1 - 2 ** 30 : 2 ** 30;
  const X = ah * b;
  const Y = al * b + nudge;
  // Fold X*2^16 into multiples of 2^31 plus a remainder.
  const Xl = ((X % 32768) + 32768) % 32768;
  const Xh = (X - Xl) / 32768;
  const Z = Xl * 65536 + Y;
  const Zh = Math.floor(Z / 2 ** 31);
  const Zl = Z - Zh * 2 ** 31;
  let q = Xh + Zh; // floor((p + nudge) / 2^31)
  if (q < 0 && Zl !== 0) q += 1; // C division truncates toward zero
  return q;
}

/** RoundingDivideByPOT (gemmlowp): x / 2^exponent, round to nearest, ties away from zero. exponent in [0, 31]. */
export function rdbp(x: number, exponent: number): number {
  if (!(exponent >= 0 && exponent <= 31)) throw new RangeError(`rdbp: exponent ${exponent} is not in [0, 31]`);
  const mask = 2 ** exponent - 1;
  const remainder = x & mask;
  const threshold = (mask >>> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** MultiplyByQuantizedMultiplier (section 3, default build): left shift, SRDHM, then RDBP. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  // The left shift wraps like int32 (overflow is undefined in C; valid models never hit it).
  return rdbp(srdhm(x << left, multiplier), right);
}

/** MultiplyByQuantizedMultiplierSmallerThanOneExp (ADD), default build: RDBP(SRDHM(x, M), -shift). */
export function multiplyByQuantizedMultiplierSmallerThanOneExp(x: number, multiplier: number, shift: number): number {
  return rdbp(srdhm(x, multiplier), -shift);
}

/** MultiplyByQuantizedMultiplierGreaterThanOne (softmax), default build: SRDHM(x * 2^leftShift, M). */
export function multiplyByQuantizedMultiplierGreaterThanOne(x: number, multiplier: number, leftShift: number): number {
  return srdhm(x << leftShift, multiplier);
}

/** Quantize a real value the TFLM way: zp + round(float32(v / scale)), half away from zero (unclamped). */
export function quantizeValue(v: number, scale: number, zeroPoint: number): number {
  return zeroPoint + roundHalfAway(f32(f32(v) / f32(scale)));
}

/** CalculateActivationRangeQuantized (section 6): the clamp [min, max] of a fused activation. */
export function activationRange(
  act: Activation,
  scale: number,
  zeroPoint: number,
  dtype: 'int8' | 'int16' = 'int8',
): [number, number] {
  const [qmin, qmax] = typeRange(dtype);
  const q = (v: number) => quantizeValue(v, scale, zeroPoint);
  switch (act) {
    case 'NONE':
      return [qmin, qmax];
    case 'RELU':
      return [Math.max(qmin, q(0)), qmax];
    case 'RELU6':
      return [Math.max(qmin, q(0)), Math.min(qmax, q(6))];
    case 'RELU_N1_TO_1':
      return [Math.max(qmin, q(-1)), Math.min(qmax, q(1))];
    default:
      throw new RangeError(`activationRange: unknown activation ${act as string}`);
  }
}

/** Scaled differences in softmax have 5 integer bits (Q5.26). */
export const SOFTMAX_DIFF_INTEGER_BITS = 5;

export interface SoftmaxScaling {
  inputMultiplier: number;
  /** A left shift, >= 0. */
  inputLeftShift: number;
  /** The most negative (x - rowMax) still evaluated; smaller differences output the type minimum. */
  diffMin: number;
}

/** PreprocessSoftmaxScaling + CalculateInputRadius (section 9), default build. */
export function softmaxScaling(beta: number, inputScale: number): SoftmaxScaling {
  const real = Math.min(beta * inputScale * 2 ** (31 - SOFTMAX_DIFF_INTEGER_BITS), 2 ** 31 - 1);
  const { multiplier, shift } = quantizeMultiplierGreaterThanOne(real);
  const radius = Math.floor(
    ((2 ** SOFTMAX_DIFF_INTEGER_BITS - 1) * 2 ** (31 - SOFTMAX_DIFF_INTEGER_BITS)) / 2 ** shift,
  );
  return { inputMultiplier: multiplier, inputLeftShift: shift, diffMin: radius === 0 ? 0 : -radius };
}

/** ADD's fixed pre-shift of both inputs (add_common.cc). */
export const ADD_LEFT_SHIFT = 20;

export interface AddScaling {
  leftShift: number;
  input1: QuantizedMultiplier;
  input2: QuantizedMultiplier;
  output: QuantizedMultiplier;
}

/** ADD set-up (section 8): all three multipliers below 1 (shift <= 0). */
export function addScaling(scale1: number, scale2: number, outputScale: number): AddScaling {
  const twiceMax = 2 * Math.max(scale1, scale2);
  const realOut = twiceMax / (2 ** ADD_LEFT_SHIFT * outputScale);
  if (!(realOut < 1))
    throw new RangeError(`ADD: output scale ${outputScale} is too small for input scales ${scale1} and ${scale2} (multiplier ${realOut} >= 1)`);
  return {
    leftShift: ADD_LEFT_SHIFT,
    input1: quantizeMultiplierSmallerThanOneExp(scale1 / twiceMax),
    input2: quantizeMultiplierSmallerThanOneExp(scale2 / twiceMax),
    output: quantizeMultiplierSmallerThanOneExp(realOut),
  };
}

/** Effective scale of a per-channel conv/depthwise/FC channel: all in double (section 2). */
export function perChannelEffectiveScale(inputScale: number, filterScale: number, outputScale: number): number {
  return (inputScale * filterScale) / outputScale;
}

/** Effective scale of per-tensor FC: the input*filter product is float32 first (section 5). */
export function perTensorFcEffectiveScale(inputScale: number, filterScale: number, outputScale: number): number {
  return f32(f32(inputScale) * f32(filterScale)) / outputScale;
}

/** Clamp an integer to [lo, hi]. */
export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
