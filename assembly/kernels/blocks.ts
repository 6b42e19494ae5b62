// The interleaved weight layout of CONV_2D and FULLY_CONNECTED records
// (ABI.md, "Weight slice layouts"): when a channel's weights are a whole
// number of words, each full block of four channels (counted from CH_LO) is
// interleaved by words, word k of the block's channel j at 16k + 4j; the
// channels after the last full block keep plain rows. A kernel's four-channel
// loop then reads the four words that meet one input word from one address.

/** Address of the first weight word of channel index ci (from CH_LO) of nc, rows of `len` bytes. */
// @ts-ignore: decorator
@inline export function channelBase(weights: usize, ci: usize, len: usize, blocked: bool, nc: i32): usize {
  return blocked && ci < <usize>(nc & ~3) ? weights + (ci & ~3) * len + ((ci & 3) << 2) : weights + ci * len;
}

/** Bytes from one weight word of channel index ci to its next: 16 inside an interleaved block, else 4. */
// @ts-ignore: decorator
@inline export function channelStep(ci: usize, blocked: bool, nc: i32): usize {
  return blocked && ci < <usize>(nc & ~3) ? 16 : 4;
}

/** Weight byte t of a channel at w whose words lie `step` apart. */
// @ts-ignore: decorator
@inline export function weightAt(w: usize, step: usize, t: usize): i32 {
  return <i32>load<i8>(w + (t >> 2) * step + (t & 3));
}

/** The box's first channel of a four-channel block: c0, or with interleaved weights the first at a block boundary. */
// @ts-ignore: decorator
@inline export function firstQuad(c0: i32, c1: i32, chLo: i32, blocked: bool): i32 {
  const c = blocked ? c0 + ((chLo - c0) & 3) : c0;
  return c < c1 ? c : c1;
}
