/* The int8 math of the conv, depthwise and FC kernels written plainly in C,
 * as TFLM's reference loops do it, for the kernel benchmark only
 * (tools/bench/kernels.ts builds it with gcc -O2 and compares bytes and speed).
 *
 * usage: kernels-bench conv|dw|fc PARAMS OUT ITERATIONS
 * PARAMS: int32 header (see read_header) then input int8, weights int8,
 * bias int32, multipliers int32, shifts int32. Writes the output to OUT and
 * prints the CPU nanoseconds of one iteration (mean over ITERATIONS): CPU time,
 * not wall time, so that other processes on a shared machine count less. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int32_t srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t p = (int64_t)a * (int64_t)b;
  int64_t nudge = p >= 0 ? (1 << 30) : (1 - (1 << 30));
  return (int32_t)((p + nudge) / (1ll << 31));
}

static int32_t rdbp(int32_t x, int n) {
  int32_t mask = (int32_t)((1ll << n) - 1);
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> n) + ((x & mask) > threshold ? 1 : 0);
}

static int32_t mbqm(int32_t x, int32_t m, int shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  return rdbp(srdhm(x * (1 << left), m), right);
}

enum { N, H, W, CIN, OH, OW, COUT, KH, KW, SH, SW, DH, DW, PT, PL, DM, IN_ZP, OUT_ZP, ACT_MIN, ACT_MAX, HEADER };

typedef struct {
  int32_t h[HEADER];
  int8_t *in, *w;
  int32_t *bias, *mult, *shift;
  int8_t *out;
} Op;

static void conv(const Op *o, int depthwise) {
  const int32_t *h = o->h;
  int8_t *out = o->out;
  for (int n = 0; n < h[N]; n++)
    for (int y = 0; y < h[OH]; y++)
      for (int x = 0; x < h[OW]; x++)
        for (int oc = 0; oc < h[COUT]; oc++) {
          int32_t acc = 0;
          for (int ky = 0; ky < h[KH]; ky++) {
            int iy = y * h[SH] - h[PT] + ky * h[DH];
            if (iy < 0 || iy >= h[H]) continue;
            for (int kx = 0; kx < h[KW]; kx++) {
              int ix = x * h[SW] - h[PL] + kx * h[DW];
              if (ix < 0 || ix >= h[W]) continue;
              const int8_t *px = o->in + (((size_t)n * h[H] + iy) * h[W] + ix) * h[CIN];
              if (depthwise) {
                int ic = oc / h[DM];
                acc += o->w[((size_t)ky * h[KW] + kx) * h[COUT] + oc] * (px[ic] - h[IN_ZP]);
              } else {
                const int8_t *wp = o->w + (((size_t)oc * h[KH] + ky) * h[KW] + kx) * h[CIN];
                for (int ic = 0; ic < h[CIN]; ic++) acc += wp[ic] * (px[ic] - h[IN_ZP]);
              }
            }
          }
          acc += o->bias[oc];
          int32_t v = mbqm(acc, o->mult[oc], o->shift[oc]) + h[OUT_ZP];
          v = v < h[ACT_MIN] ? h[ACT_MIN] : v > h[ACT_MAX] ? h[ACT_MAX] : v;
          *out++ = (int8_t)v;
        }
}

/* FC reuses the header: N = batches, CIN = depth, COUT = units. */
static void fully_connected(const Op *o) {
  const int32_t *h = o->h;
  for (int b = 0; b < h[N]; b++)
    for (int u = 0; u < h[COUT]; u++) {
      int32_t acc = 0;
      const int8_t *x = o->in + (size_t)b * h[CIN];
      const int8_t *w = o->w + (size_t)u * h[CIN];
      for (int d = 0; d < h[CIN]; d++) acc += w[d] * (x[d] - h[IN_ZP]);
      acc += o->bias[u];
      int32_t v = mbqm(acc, o->mult[u], o->shift[u]) + h[OUT_ZP];
      v = v < h[ACT_MIN] ? h[ACT_MIN] : v > h[ACT_MAX] ? h[ACT_MAX] : v;
      o->out[(size_t)b * h[COUT] + u] = (int8_t)v;
    }
}

static void *read_exact(FILE *f, size_t bytes, const char *what) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p || fread(p, 1, bytes, f) != bytes) {
    fprintf(stderr, "kernels-bench: params file too short reading %s\n", what);
    exit(2);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: kernels-bench conv|dw|fc PARAMS OUT ITERATIONS\n");
    return 2;
  }
  const char *kind = argv[1];
  int fcop = strcmp(kind, "fc") == 0, dw = strcmp(kind, "dw") == 0;
  FILE *f = fopen(argv[2], "rb");
  if (!f) {
    fprintf(stderr, "kernels-bench: cannot open %s\n", argv[2]);
    return 2;
  }
  Op o;
  int32_t *hdr = read_exact(f, sizeof o.h, "header");
  memcpy(o.h, hdr, sizeof o.h);
  const int32_t *h = o.h;
  size_t in_n = fcop ? (size_t)h[N] * h[CIN] : (size_t)h[N] * h[H] * h[W] * h[CIN];
  size_t w_n = fcop ? (size_t)h[COUT] * h[CIN] : dw ? (size_t)h[KH] * h[KW] * h[COUT] : (size_t)h[COUT] * h[KH] * h[KW] * h[CIN];
  size_t out_n = fcop ? (size_t)h[N] * h[COUT] : (size_t)h[N] * h[OH] * h[OW] * h[COUT];
  o.in = read_exact(f, in_n, "input");
  o.w = read_exact(f, w_n, "weights");
  o.bias = read_exact(f, 4 * (size_t)h[COUT], "bias");
  o.mult = read_exact(f, 4 * (size_t)h[COUT], "multipliers");
  o.shift = read_exact(f, 4 * (size_t)h[COUT], "shifts");
  fclose(f);
  o.out = malloc(out_n);
  long iters = atol(argv[4]);
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (long i = 0; i < iters; i++) {
    if (fcop) fully_connected(&o);
    else conv(&o, dw);
    /* Keeps the compiler from hoisting the work out of the timing loop. */
    __asm__ volatile("" : : "r"(o.out) : "memory");
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  FILE *g = fopen(argv[3], "wb");
  if (!g || fwrite(o.out, 1, out_n, g) != out_n) {
    fprintf(stderr, "kernels-bench: cannot write %s\n", argv[3]);
    return 2;
  }
  fclose(g);
  double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double)iters;
  printf("%.1f\n", ns);
  return 0;
}
