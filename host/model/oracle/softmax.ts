// SOFTMAX, int8 input, int8 or int16 output (ARITHMETIC.md section 9):
// gemmlowp fixed point, rows along the last axis. A box must hold whole rows
// (the reduction axis is never split).

import { INT32_MAX, INT32_MIN, clamp, multiplyByQuantizedMultiplierGreaterThanOne, rdbp, srdhm, typeRange } from '../arith.ts';
import type { SoftmaxParams } from '../op-params.ts';
import { TileView, advance, checkBox, type Box, type Tile } from './tile.ts';

/** Sums of exponentials are held in Q12.19 (a Q0.31 exp enters the sum shifted right by 12). */
const ACCUMULATION_INTEGER_BITS = 12;

/** Saturating v * 2^k (gemmlowp SaturatingRoundingMultiplyByPOT, k > 0). */
function satShl(v: number, k: number): number {
  const threshold = 2 ** (31 - k) - 1;
  if (v > threshold) return INT32_MAX;
  if (v < -threshold) return INT32_MIN;
  return v << k;
}

/** exp on [-1/4, 0): input and output Q0.31. */
function expOnInterval(c: number): number {
  const expMinusOneEighth = 1895147668;
  const oneThird = 715827883;
  const x = (c + (1 << 28)) | 0;
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  let t = (rdbp(x4, 2) + x3) | 0;
  t = rdbp((srdhm(t, oneThird) + x2) | 0, 1);
  return (expMinusOneEighth + srdhm(expMinusOneEighth, (x + t) | 0)) | 0;
}

/** Q0.31 values of exp(-2^k) for k = -2..4. */
const EXP_OF_POWERS: readonly [number, number][] = [
  [-2, 1672461947],
  [-1, 1302514674],
  [0, 790015084],
  [1, 290630308],
  [2, 39332535],
  [3, 720401],
  [4, 242],
];

/** exp(a) for a <= 0 in Q5.26, result Q0.31. */
export function expOnNegativeValues(a: number): number {
  const quarter = 1 << 24;
  const b = (a & (quarter - 1)) - quarter;
  let result = expOnInterval(b << 5);
  const rem = b - a;
  for (const [k, factor] of EXP_OF_POWERS) if (rem & (1 << (26 + k))) result = srdhm(result, factor);
  return a === 0 ? INT32_MAX : result;
}

/** 1 / (1 + s) for s in [0, 1) in Q0.31, by Newton-Raphson in Q2.29. */
export function oneOverOnePlusX(s: number): number {
  const h = Math.trunc((s + INT32_MAX + 1) / 2);
  let y = (1515870810 + srdhm(h, -1010580540)) | 0;
  for (let i = 0; i < 3; i++) {
    const p = srdhm(h, y);
    const q = ((1 << 29) - p) | 0;
    y = (y + satShl(srdhm(y, q), 2)) | 0;
  }
  return satShl(y, 1);
}

export function softmaxBox(p: SoftmaxParams, input: Tile, box: Box): Int8Array | Int16Array {
  const label = `SOFTMAX (op ${p.opIndex})`;
  const shape = checkBox(label, box, p.outputShape);
  const last = shape.length - 1;
  if (last >= 0 && (box.start[last] !== 0 || box.end[last] !== p.depth))
    throw new RangeError(`${label}: the box must hold whole rows (last axis [0, ${p.depth})), got [${box.start[last]}, ${box.end[last]})`);
  const x = new TileView(`${label} input`, input, p.outputShape);
  const bits = p.outputType === 'int8' ? 8 : 16;
  const [tmin, tmax] = typeRange(p.outputType);
  const size = shape.reduce((s, d) => s * d, 1);
  const out = p.outputType === 'int8' ? new Int8Array(size) : new Int16Array(size);
  const depth = p.depth;
  // Rows are visited by their leading coordinates; each row is read whole.
  const rowsBox: Box = { start: box.start.slice(0, last), end: box.end.slice(0, last) };
  const lead = [...rowsBox.start];
  const rowDiff = new Array<number>(depth);
  const scaled = (d: number) => multiplyByQuantizedMultiplierGreaterThanOne(d, p.inputMultiplier, p.inputLeftShift);
  if (last >= 0 && size > 0) x.requireRange(last, 0, depth);
  for (let o = 0; o < size; o += depth) {
    const base = x.index(last >= 0 ? [...lead, 0] : []);
    let max = -128;
    for (let c = 0; c < depth; c++) max = Math.max(max, x.data[base + c]);
    let sum = 0;
    for (let c = 0; c < depth; c++) {
      rowDiff[c] = x.data[base + c] - max;
      if (rowDiff[c] >= p.diffMin) sum = (sum + rdbp(expOnNegativeValues(scaled(rowDiff[c])), ACCUMULATION_INTEGER_BITS)) | 0;
    }
    const z = Math.clz32(sum);
    const bitsOverUnit = ACCUMULATION_INTEGER_BITS - z;
    const recip = oneOverOnePlusX((((sum << z) >>> 0) - 2 ** 31) | 0);
    const exponent = bitsOverUnit + 31 - bits;
    if (exponent < 0 || exponent > 31) throw new RangeError(`${label}: output shift ${exponent} outside [0, 31]`);
    for (let c = 0; c < depth; c++) {
      out[o + c] =
        rowDiff[c] >= p.diffMin
          ? clamp(rdbp(srdhm(recip, expOnNegativeValues(scaled(rowDiff[c]))), exponent) + tmin, tmin, tmax)
          : tmin;
    }
    advance(lead, rowsBox);
  }
  return out;
}
