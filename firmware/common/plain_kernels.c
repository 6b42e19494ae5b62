/* The benchmark's denominator: conv, depthwise and FC written plainly in C,
 * reading the same op record and call block as the kernels module
 * (assembly/kernels/ABI.md), with TFLite Micro's double-rounding
 * requantization. No checks: the job runner only hands it calls the kernels
 * module accepted. Its outputs are compared with the module's in tests, so a
 * benchmark never divides by a wrong kernel. */
#include <string.h>

#include "abi.generated.h"
#include "job.h"

#define PLAIN_UNSUPPORTED (-1)

static int32_t w(const uint8_t* base, int i) {
  int32_t v;
  memcpy(&v, base + 4 * i, 4);
  return v;
}

static int32_t srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t p = (int64_t)a * b;
  int64_t nudge = p >= 0 ? (1ll << 30) : (1 - (1ll << 30));
  return (int32_t)((p + nudge) / (1ll << 31));
}

static int32_t rdbp(int32_t x, int n) {
  int32_t mask = (int32_t)((1ll << n) - 1);
  int32_t rem = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> n) + (rem > threshold ? 1 : 0);
}

/* The output zero point and clamp, read once per call. */
typedef struct {
  int32_t zp, lo, hi;
} out_params;

static out_params out_of(const uint8_t* rec) {
  out_params o = {w(rec, MS_W_OUT_ZP), w(rec, MS_W_ACT_MIN), w(rec, MS_W_ACT_MAX)};
  return o;
}

static int8_t requantize(int32_t acc, int32_t m, int32_t e, out_params o) {
  int32_t v = rdbp(srdhm(acc * (e > 0 ? (1 << e) : 1), m), e > 0 ? 0 : -e) + o.zp;
  if (v < o.lo) v = o.lo;
  if (v > o.hi) v = o.hi;
  return (int8_t)v;
}

/* conv (dm == 0) and depthwise (dm = depth multiplier) over one NHWC box. */
static void conv_like(uint8_t* mem, const uint8_t* rec, const uint8_t* call, int dm) {
  const int8_t* wt = (const int8_t*)(rec + w(rec, MS_W_WEIGHTS));
  const int32_t* bias = (const int32_t*)(rec + w(rec, MS_W_BIAS));
  const int32_t* mult = (const int32_t*)(rec + w(rec, MS_W_MULT));
  const int32_t* shift = (const int32_t*)(rec + w(rec, MS_W_SHIFT));
  const int8_t* in = (const int8_t*)(mem + w(call, MS_C_IN0));
  int8_t* out = (int8_t*)(mem + w(call, MS_C_OUT));
  int ih = w(rec, MS_W_IN_SHAPE + 1), iw = w(rec, MS_W_IN_SHAPE + 2), ic = w(rec, MS_W_IN_SHAPE + 3);
  int kh = w(rec, MS_W_KH), kw = w(rec, MS_W_KW), sh = w(rec, MS_W_STRIDE_H), sw = w(rec, MS_W_STRIDE_W);
  int dh = w(rec, MS_W_DIL_H), dw = w(rec, MS_W_DIL_W), pt = w(rec, MS_W_PAD_TOP), pl = w(rec, MS_W_PAD_LEFT);
  int in_zp = w(rec, MS_W_IN_ZP), ch_lo = w(rec, MS_W_CH_LO);
  int oy = w(call, MS_C_IN0_ORIGIN + 1), ox = w(call, MS_C_IN0_ORIGIN + 2), oc = w(call, MS_C_IN0_ORIGIN + 3);
  int on = w(call, MS_C_IN0_ORIGIN);
  int th = w(call, MS_C_IN0_EXTENT + 1), tw = w(call, MS_C_IN0_EXTENT + 2), tc = w(call, MS_C_IN0_EXTENT + 3);
  int n0 = w(call, MS_C_BOX_START), n1 = w(call, MS_C_BOX_END);
  int y0 = w(call, MS_C_BOX_START + 1), y1 = w(call, MS_C_BOX_END + 1);
  int x0 = w(call, MS_C_BOX_START + 2), x1 = w(call, MS_C_BOX_END + 2);
  int c0 = w(call, MS_C_BOX_START + 3), c1 = w(call, MS_C_BOX_END + 3);
  int nc = w(rec, MS_W_CH_HI) - ch_lo;
  out_params o = out_of(rec);
  for (int n = n0; n < n1; n++)
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      for (int c = c0; c < c1; c++) {
        int lc = c - ch_lo;
        int ci = dm == 0 ? 0 : c / dm - oc; /* depthwise: the input channel */
        int32_t acc = bias[lc];
        for (int ky = 0; ky < kh; ky++) {
          int iy = y * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) continue;
          for (int kx = 0; kx < kw; kx++) {
            int ix = x * sw - pl + kx * dw;
            if (ix < 0 || ix >= iw) continue;
            const int8_t* px = in + (((n - on) * th + (iy - oy)) * tw + (ix - ox)) * tc;
            if (dm == 0) {
              /* The record's layout (ABI.md): with ic a multiple of 4, a full block of four
               * channels is interleaved by words, so channel lc's words lie 16 bytes apart. */
              int blocked = ic % 4 == 0 && lc < (nc & ~3);
              int taps = kh * kw * ic;
              if (blocked) {
                const int8_t* f = wt + (lc & ~3) * taps + (lc & 3) * 4 + (ky * kw + kx) * ic * 4;
                for (int i = 0; i < ic; i += 4, f += 16)
                  acc += (px[i - oc] - in_zp) * f[0] + (px[i + 1 - oc] - in_zp) * f[1] + (px[i + 2 - oc] - in_zp) * f[2] +
                         (px[i + 3 - oc] - in_zp) * f[3];
              } else {
                const int8_t* f = wt + lc * taps + (ky * kw + kx) * ic;
                for (int i = 0; i < ic; i++) acc += (px[i - oc] - in_zp) * f[i];
              }
            } else {
              const int8_t* f = wt + (ky * kw + kx) * nc;
              acc += (px[ci] - in_zp) * f[lc];
            }
          }
        }
        *out++ = requantize(acc, mult[lc], shift[lc], o);
      }
}

static void fc(uint8_t* mem, const uint8_t* rec, const uint8_t* call) {
  const int8_t* wt = (const int8_t*)(rec + w(rec, MS_W_WEIGHTS));
  const int32_t* bias = (const int32_t*)(rec + w(rec, MS_W_BIAS));
  const int32_t* mult = (const int32_t*)(rec + w(rec, MS_W_MULT));
  const int32_t* shift = (const int32_t*)(rec + w(rec, MS_W_SHIFT));
  const int8_t* in = (const int8_t*)(mem + w(call, MS_C_IN0));
  int8_t* out = (int8_t*)(mem + w(call, MS_C_OUT));
  int depth = w(rec, MS_W_DEPTH_HI) - w(rec, MS_W_DEPTH_LO), in_zp = w(rec, MS_W_IN_ZP), ch_lo = w(rec, MS_W_CH_LO);
  int b0 = w(call, MS_C_BOX_START), b1 = w(call, MS_C_BOX_END);
  out_params o = out_of(rec);
  int u0 = w(call, MS_C_BOX_START + 1), u1 = w(call, MS_C_BOX_END + 1);
  int nc = w(rec, MS_W_CH_HI) - ch_lo;
  for (int b = b0; b < b1; b++)
    for (int u = u0; u < u1; u++) {
      int lu = u - ch_lo;
      const int8_t* x = in + (b - b0) * depth;
      int32_t acc = bias[lu];
      /* The record's layout (ABI.md): with depth a multiple of 4, a full block of four
       * units is interleaved by words, so unit lu's words lie 16 bytes apart. */
      if (depth % 4 == 0 && lu < (nc & ~3)) {
        const int8_t* f = wt + (lu & ~3) * depth + (lu & 3) * 4;
        for (int d = 0; d < depth; d += 4, f += 16)
          acc += (x[d] - in_zp) * f[0] + (x[d + 1] - in_zp) * f[1] + (x[d + 2] - in_zp) * f[2] + (x[d + 3] - in_zp) * f[3];
      } else {
        const int8_t* f = wt + lu * depth;
        for (int d = 0; d < depth; d++) acc += (x[d] - in_zp) * f[d];
      }
      *out++ = requantize(acc, mult[lu], shift[lu], o);
    }
}

int32_t ms_plain_run(uint8_t* mem, uint32_t rec_off, uint32_t call_off) {
  const uint8_t* rec = mem + rec_off;
  const uint8_t* call = mem + call_off;
  switch (w(rec, MS_W_OPCODE)) {
    case MS_OP_CONV_2D: conv_like(mem, rec, call, 0); return 0;
    case MS_OP_DEPTHWISE_CONV_2D: conv_like(mem, rec, call, w(rec, MS_W_DEPTH_MULT)); return 0;
    case MS_OP_FULLY_CONNECTED: fc(mem, rec, call); return 0;
  }
  return PLAIN_UNSUPPORTED;
}
