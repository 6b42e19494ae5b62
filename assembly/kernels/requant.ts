// TFLM default-build ("double rounding") integer arithmetic, ARITHMETIC.md §3.

/** SaturatingRoundingDoublingHighMul for any operands. Truncating p/2^31 after
 * the sign-dependent nudge equals the arithmetic shift (p + 2^30) >> 31 for both
 * signs, so ties go toward +infinity without a 64-bit division. */
// @ts-ignore: decorator
@inline export function srdhm(a: i32, b: i32): i32 {
  if (a == i32.MIN_VALUE && b == i32.MIN_VALUE) return i32.MAX_VALUE;
  return <i32>((<i64>a * <i64>b + (1 << 30)) >> 31);
}

/** SRDHM when the multiplier is known to be >= 0 (records are validated so):
 * the one saturating pair cannot occur. */
// @ts-ignore: decorator
@inline export function srdhmPos(a: i32, m: i32): i32 {
  return <i32>((<i64>a * <i64>m + (1 << 30)) >> 31);
}

/** RoundingDivideByPOT: x / 2^n rounded to nearest, ties away from zero; 0 <= n <= 31. */
// @ts-ignore: decorator
@inline export function rdbp(x: i32, n: i32): i32 {
  const mask = (1 << n) - 1;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> n) + ((x & mask) > threshold ? 1 : 0);
}

/** MultiplyByQuantizedMultiplier(x, M, e): shift > 0 is a left shift. M >= 0. */
// @ts-ignore: decorator
@inline export function mbqm(x: i32, m: i32, shift: i32): i32 {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return rdbp(srdhmPos(x << left, m), right);
}

/** Requantizes an accumulator to the output: scale, add the zero point, clamp. */
// @ts-ignore: decorator
@inline export function requantize(acc: i32, m: i32, shift: i32, outZp: i32, lo: i32, hi: i32): i32 {
  const v = mbqm(acc, m, shift) + outZp;
  return v < lo ? lo : v > hi ? hi : v;
}
