/* The allocator of bare-metal wasm3 images: wasm3 is the only caller of
 * malloc there, and this one keeps its layout the same from boot to boot.
 * It hands out one static region: the RAM the image leaves
 * (MS_RAM_FROM_LINKER), or MS_HEAP_BYTES set per image.
 *
 * Blocks come from the bottom up; free gives back the last block only, and
 * everything once no block is live. One block at a time may instead sit at
 * the top of the region (ms_heap_place_at_top): the module's linear memory,
 * which wasm3 allocates at load, before the compiled code, and grows once that
 * is in place. At the top it grows downwards in place, so the small memory
 * the module is loaded with is not left behind as a hole below the code.
 *
 * So after a trap, when the engine frees the runtime and loads the module
 * again, every block lands where it did at boot, and the linear memory gets
 * the same bytes (engine_wasm3.c). wasm3's own fixed heap (d_m3FixedHeap)
 * works alike but never starts over and has no top block. A full region is a
 * failed allocation, never an overrun. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "heap.h"

#define ALIGN 8u
/* Each block starts with its size, so realloc knows how much to copy. */
#define HEADER ALIGN

#ifdef MS_RAM_FROM_LINKER
/* Every byte of RAM the image leaves (config.h). */
#include "config.h"
#define heap ms_ram_free
#undef MS_HEAP_BYTES
#define MS_HEAP_BYTES MS_RAM_FREE_BYTES
#else
static uint8_t heap[MS_HEAP_BYTES] __attribute__((aligned(ALIGN)));
#endif
/* The bottom's end and the most it ever reached; the top block's start (when there is one). */
static uint32_t top, high_water, live, top_start;
static uint8_t *last, *top_block;
static int next_at_top;

static uint32_t round_up(size_t n) { return (uint32_t)((n + ALIGN - 1u) & ~(size_t)(ALIGN - 1u)); }

static uint32_t bottom_limit(void) { return top_block ? top_start : MS_HEAP_BYTES; }

static uint32_t size_of(const uint8_t* block) {
  uint32_t n;
  memcpy(&n, block - HEADER, sizeof n);
  return n;
}

static void set_size(uint8_t* block, size_t n) {
  uint32_t size = (uint32_t)n;
  memcpy(block - HEADER, &size, sizeof size);
}

/* The top block, at the end of the region, for n bytes (moved down or up
 * from where it was, keeping its first `keep` bytes); NULL if the bottom is
 * in the way. */
static void* place_top(size_t n, uint32_t keep) {
  if (n > MS_HEAP_BYTES || round_up(n) + HEADER > MS_HEAP_BYTES - top) return NULL;
  uint32_t start = MS_HEAP_BYTES - round_up(n) - HEADER;
  uint8_t* block = heap + start + HEADER;
  if (top_block != NULL && keep != 0) memmove(block, top_block, keep);
  set_size(block, n);
  top_start = start;
  top_block = block;
  return block;
}

void ms_heap_place_at_top(int on) { next_at_top = on; }

void* malloc(size_t n) {
  if (next_at_top) {
    if (top_block != NULL) return NULL;
    next_at_top = 0;
    void* p = place_top(n, 0);
    if (p != NULL) live++;
    return p;
  }
  uint32_t need = round_up(n) + HEADER;
  if (n > MS_HEAP_BYTES || need > bottom_limit() - top) return NULL;
  uint8_t* block = heap + top + HEADER;
  set_size(block, n);
  top += need;
  if (top > high_water) high_water = top;
  live++;
  last = block;
  return block;
}

void free(void* p) {
  if (p == NULL) return;
  if (p == top_block) top_block = NULL;
  if (--live == 0) {
    top = 0;
    last = NULL;
  } else if (p == last) {
    top = (uint32_t)((uint8_t*)p - HEADER - heap);
    last = NULL;
  }
}

/* gcc would turn malloc + memset back into a call to calloc: this one. */
__attribute__((optimize("no-optimize-strlen"))) void* calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  void* p = malloc(count * size);
  if (p != NULL) memset(p, 0, count * size);
  return p;
}

void* realloc(void* p, size_t n) {
  if (p == NULL) return malloc(n);
  uint32_t old = size_of(p);
  if (p == top_block) return place_top(n, old < n ? old : (uint32_t)n);
  if (p == last) {
    /* The last block grows or shrinks in place. */
    uint32_t start = (uint32_t)((uint8_t*)p - heap);
    if (n > MS_HEAP_BYTES || round_up(n) > bottom_limit() - start) return NULL;
    set_size(p, n);
    top = start + round_up(n);
    if (top > high_water) high_water = top;
    return p;
  }
  void* q = malloc(n);
  if (q == NULL) return NULL;
  memcpy(q, p, old < n ? old : n);
  free(p);
  return q;
}

uint32_t ms_heap_bytes(void) { return MS_HEAP_BYTES; }

uint32_t ms_heap_high_water(void) { return high_water; }

uint32_t ms_heap_top_room(void) {
  uint32_t used = high_water + HEADER;
  return used >= MS_HEAP_BYTES ? 0 : (MS_HEAP_BYTES - used) & ~(ALIGN - 1u);
}
