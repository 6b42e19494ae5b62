// Per-channel constants shared by conv, depthwise and FC: where they live in
// the record and that their values are usable by the requantization.
import { word, W_CH_LO, W_CH_HI, W_WEIGHTS, W_BIAS, W_FOLDED, W_MULT, W_SHIFT, OK, BAD_RECORD, OUT_OF_MEMORY_BOUNDS } from './layout';
import { constantInRecord } from './bounds';

/** Multiplier must be >= 0 (no SRDHM saturation) and the shift a valid power. */
export function requantOk(m: i32, shift: i32): bool {
  return m >= 0 && shift >= -31 && shift <= 31;
}

/** Channels [CH_LO, CH_HI) must lie in [0, count); the weight slice of
 * `weightBytes` and the four int32 arrays must lie in the record's constants;
 * every multiplier/shift pair must be valid. */
export function checkChannelConstants(rec: usize, count: i32, weightBytes: u64): i32 {
  const lo = word(rec, W_CH_LO);
  const hi = word(rec, W_CH_HI);
  if (lo < 0 || hi <= lo || hi > count) return BAD_RECORD;
  const arr = <u64>(hi - lo) * 4;
  if (
    !constantInRecord(rec, word(rec, W_WEIGHTS), weightBytes) ||
    !constantInRecord(rec, word(rec, W_BIAS), arr) ||
    !constantInRecord(rec, word(rec, W_FOLDED), arr) ||
    !constantInRecord(rec, word(rec, W_MULT), arr) ||
    !constantInRecord(rec, word(rec, W_SHIFT), arr)
  )
    return OUT_OF_MEMORY_BOUNDS;
  const mult = rec + <usize>word(rec, W_MULT);
  const shift = rec + <usize>word(rec, W_SHIFT);
  for (let i = 0; i < hi - lo; i++) {
    if (!requantOk(load<i32>(mult + (<usize>i << 2)), load<i32>(shift + (<usize>i << 2)))) return BAD_RECORD;
  }
  return OK;
}

/** Address of channel `c`'s entry in the int32 array at record word `w`. */
// @ts-ignore: decorator
@inline export function channelEntry(rec: usize, w: i32, c: i32): usize {
  return rec + <usize>word(rec, w) + (<usize>(c - word(rec, W_CH_LO)) << 2);
}
