// Requantization of four adjacent output channels (conv, depthwise, FC). The
// kernels loop over output pixels inside a block of four channels, so each
// channel's bias, multiplier and shifts are read from the record once per
// block and kept here in the form the arithmetic wants (left and right shift
// apart, the rounding mask), instead of being reloaded and rederived per
// output. The four int8 results go out as one word store.
import { word, W_OUT_ZP, W_ACT_MIN, W_ACT_MAX } from './layout';

let outZp = 0;
let actLo = 0;
let actHi = 0;
let bias0 = 0, bias1 = 0, bias2 = 0, bias3 = 0;
let mult0 = 0, mult1 = 0, mult2 = 0, mult3 = 0;
let left0 = 0, left1 = 0, left2 = 0, left3 = 0;
let right0 = 0, right1 = 0, right2 = 0, right3 = 0;
// RoundingDivideByPOT's addend for v >= 0 and for v < 0 (ties away from zero): 2^(n-1) and 2^(n-1) - 1, 0 when n = 0.
let up0 = 0, up1 = 0, up2 = 0, up3 = 0;
let down0 = 0, down1 = 0, down2 = 0, down3 = 0;
// The usual case, every channel a right shift n in [1, FAST_MAX_RIGHT] and no
// left shift, takes one 64-bit addend and one shift per output (see fast()).
// The addend also carries outZp + 128, so a result is already its output
// byte + 128: in [0, 255] after the clamp, packed without masking.
let quadFast = false;
// The op's clamp is the whole int8 range: a saturation (usat on the M4).
let quadFull = false;
let cPos0: i64 = 0, cPos1: i64 = 0, cPos2: i64 = 0, cPos3: i64 = 0;
let hiShift0 = 0, hiShift1 = 0, hiShift2 = 0, hiShift3 = 0;
// The clamp of the fast path, moved by 128 like its results.
let liftLo = 0;
let liftHi = 0;
/** Largest right shift the fast path takes: (outZp + 128) * 2^(n-1) must stay below 2^30 (see fast()). */
const FAST_MAX_RIGHT = 23;

/** The op's output zero point and clamp. */
export function quadOp(rec: usize): void {
  outZp = word(rec, W_OUT_ZP);
  actLo = word(rec, W_ACT_MIN);
  actHi = word(rec, W_ACT_MAX);
  quadFull = actLo == -128 && actHi == 127;
  liftLo = actLo + 128;
  liftHi = actHi + 128;
}

/** Channels ci..ci+3 of the int32 arrays at `bias`, `mult`, `shift` (ci counted from the record's CH_LO). */
export function quadChannels(bias: usize, mult: usize, shift: usize, ci: usize): void {
  const b = bias + (ci << 2), m = mult + (ci << 2), s = shift + (ci << 2);
  bias0 = load<i32>(b); bias1 = load<i32>(b, 4); bias2 = load<i32>(b, 8); bias3 = load<i32>(b, 12);
  mult0 = load<i32>(m); mult1 = load<i32>(m, 4); mult2 = load<i32>(m, 8); mult3 = load<i32>(m, 12);
  let e = load<i32>(s);
  left0 = e > 0 ? e : 0; right0 = e > 0 ? 0 : -e; up0 = half(right0); down0 = up0 > 0 ? up0 - 1 : 0;
  e = load<i32>(s, 4);
  left1 = e > 0 ? e : 0; right1 = e > 0 ? 0 : -e; up1 = half(right1); down1 = up1 > 0 ? up1 - 1 : 0;
  e = load<i32>(s, 8);
  left2 = e > 0 ? e : 0; right2 = e > 0 ? 0 : -e; up2 = half(right2); down2 = up2 > 0 ? up2 - 1 : 0;
  e = load<i32>(s, 12);
  left3 = e > 0 ? e : 0; right3 = e > 0 ? 0 : -e; up3 = half(right3); down3 = up3 > 0 ? up3 - 1 : 0;
  quadFast = (left0 | left1 | left2 | left3) == 0 && fastRight(right0) && fastRight(right1) && fastRight(right2) && fastRight(right3);
  cPos0 = addend(up0, right0); hiShift0 = right0 - 1;
  cPos1 = addend(up1, right1); hiShift1 = right1 - 1;
  cPos2 = addend(up2, right2); hiShift2 = right2 - 1;
  cPos3 = addend(up3, right3); hiShift3 = right3 - 1;
}

// @ts-ignore: decorator
@inline function fastRight(n: i32): bool {
  return n >= 1 && n <= FAST_MAX_RIGHT;
}

/** 2^30 + h * 2^31 + (outZp + 128) * 2^(31+n): the doubling multiply's
 * nudge, RoundingDivideByPOT's addend h for v >= 0 and the lifted zero point,
 * at the product's scale (n = right shift). */
// @ts-ignore: decorator
@inline function addend(h: i32, n: i32): i64 {
  return (1 << 30) + (<i64>h << 31) + (<i64>(outZp + 128) << (31 + n));
}

/** 2^(n-1), 0 when n = 0. */
// @ts-ignore: decorator
@inline function half(n: i32): i32 {
  return (1 << n) >>> 1;
}

/** TFLM's MultiplyByQuantizedMultiplier (ARITHMETIC.md §3), the zero point
 * and the clamp. The doubling high multiply is requant.ts's srdhmPos. Its
 * RoundingDivideByPOT is floor((v + up) / 2^n) for v >= 0 and
 * floor((v + down) / 2^n) for v < 0 (ties away from zero): v + up stays below
 * 2^32, so it is shifted as unsigned, and v + down cannot overflow. */
// @ts-ignore: decorator
@inline function one(acc: i32, m: i32, left: i32, right: i32, up: i32, down: i32): i32 {
  const v = <i32>((<i64>(acc << left) * <i64>m + (1 << 30)) >> 31);
  const r = (v < 0 ? (v + down) >> right : <i32>(<u32>(v + up) >> right)) + outZp;
  return r < actLo ? actLo : r > actHi ? actHi : r;
}

/** one() + 128 when left = 0 and n = right in [1, FAST_MAX_RIGHT], before
 * the clamp, in one step: with P = acc * m,
 * floor((floor((P + 2^30) / 2^31) + h) / 2^n) = floor((P + 2^30 + h * 2^31) / 2^(31+n)),
 * which is the high word of P + addend shifted right by n - 1; the addend's
 * (outZp + 128) * 2^(31+n) adds outZp + 128 to that. h is up or down = up - 1
 * by the sign of floor((P + 2^30) / 2^31); taking it from the sign of acc
 * (m >= 0) differs only where that quotient is 0, and there both give 0, so
 * for acc < 0 the addend is cPos - 2^31 (taking off acc's sign bit as an
 * unsigned 64-bit value). The sum stays inside i64 and its high word inside
 * i32: |P| < 2^62, and (outZp + 128) * 2^(n-1) < 2^30 for n <= FAST_MAX_RIGHT. */
// @ts-ignore: decorator
@inline function fast(acc: i32, m: i32, cPos: i64, hiShift: i32): i32 {
  return <i32>((<i64>acc * <i64>m + cPos - <i64>(<u32>acc & 0x80000000)) >> 32) >> hiShift;
}

/** A fast() result clamped to the op's range moved by 128: [0, 255] (usat on the M4), or [actLo, actHi] + 128. */
// @ts-ignore: decorator
@inline function clampFull(r: i32): i32 {
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

// @ts-ignore: decorator
@inline function clampLifted(r: i32): i32 {
  return r < liftLo ? liftLo : r > liftHi ? liftHi : r;
}

/** The four channels' int8 outputs of accumulators a0..a3 (bias not yet added), packed little-endian. */
// @ts-ignore: decorator
@inline export function quadOut(a0: i32, a1: i32, a2: i32, a3: i32): i32 {
  if (quadFast) {
    const f0 = fast(a0 + bias0, mult0, cPos0, hiShift0);
    const f1 = fast(a1 + bias1, mult1, cPos1, hiShift1);
    const f2 = fast(a2 + bias2, mult2, cPos2, hiShift2);
    const f3 = fast(a3 + bias3, mult3, cPos3, hiShift3);
    // Bytes + 128, each in [0, 255]: packed with plain shifts, then moved back.
    if (quadFull) return (clampFull(f0) | (clampFull(f1) << 8) | (clampFull(f2) << 16) | (clampFull(f3) << 24)) ^ 0x80808080;
    return (clampLifted(f0) | (clampLifted(f1) << 8) | (clampLifted(f2) << 16) | (clampLifted(f3) << 24)) ^ 0x80808080;
  }
  const q0 = one(a0 + bias0, mult0, left0, right0, up0, down0);
  const q1 = one(a1 + bias1, mult1, left1, right1, up1, down1);
  const q2 = one(a2 + bias2, mult2, left2, right2, up2, down2);
  const q3 = one(a3 + bias3, mult3, left3, right3, up3, down3);
  return (q0 & 0xff) | ((q1 & 0xff) << 8) | ((q2 & 0xff) << 16) | (q3 << 24);
}

/** Adds d0..d3 to the block's biases (a kernel whose accumulators carry a known offset). */
export function quadBiasAdd(d0: i32, d1: i32, d2: i32, d3: i32): void {
  bias0 += d0;
  bias1 += d1;
  bias2 += d2;
  bias3 += d3;
}
