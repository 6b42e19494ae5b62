/* The allocator of bare-metal wasm3 images: wasm3 is the only caller of
 * malloc there, and this one keeps its layout the same from boot to boot.
 * It hands out one static region from the bottom up: the RAM the image
 * leaves (MS_RAM_FROM_LINKER), or MS_HEAP_BYTES set per image; free gives back the last block only, and
 * everything once no block is live. So after a trap, when the engine frees
 * the runtime and loads the module again, every block lands where it did at
 * boot, and the linear memory gets the same bytes (engine_wasm3.c). wasm3's
 * own fixed heap (d_m3FixedHeap) works alike but never starts over. A full
 * region is a failed allocation, never an overrun. */
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
static uint32_t top, high_water, live;
static uint8_t* last;

static uint32_t size_of(const uint8_t* block) {
  uint32_t n;
  memcpy(&n, block - HEADER, sizeof n);
  return n;
}

void* malloc(size_t n) {
  uint32_t need = (uint32_t)((n + ALIGN - 1u) & ~(size_t)(ALIGN - 1u)) + HEADER;
  if (n > MS_HEAP_BYTES || need > MS_HEAP_BYTES - top) return NULL;
  uint8_t* block = heap + top + HEADER;
  uint32_t size = (uint32_t)n;
  memcpy(block - HEADER, &size, sizeof size);
  top += need;
  if (top > high_water) high_water = top;
  live++;
  last = block;
  return block;
}

void free(void* p) {
  if (p == NULL) return;
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
  if (p == last) {
    /* The last block grows or shrinks in place. */
    uint32_t start = (uint32_t)((uint8_t*)p - heap);
    uint32_t end = start + (uint32_t)((n + ALIGN - 1u) & ~(size_t)(ALIGN - 1u));
    if (n > MS_HEAP_BYTES || end > MS_HEAP_BYTES) return NULL;
    uint32_t size = (uint32_t)n;
    memcpy((uint8_t*)p - HEADER, &size, sizeof size);
    top = end;
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
