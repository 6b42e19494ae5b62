/* wasm3's heap on the ESP32: ESP-IDF's own malloc, of which the memory plan
 * gives wasm3 MS_HEAP_BYTES (platformio.ini). engine_wasm3.c sizes the linear
 * memory from what wasm3 has taken of it at the first boot; a restart after
 * a trap frees everything and asks for the same sizes again. */
#include <esp_heap_caps.h>

#include "heap.h"

static uint32_t free_at_boot;

/* Called by board_init, before wasm3 allocates anything. */
void ms_esp32_heap_mark(void) { free_at_boot = (uint32_t)heap_caps_get_free_size(MALLOC_CAP_8BIT); }

uint32_t ms_heap_bytes(void) { return MS_HEAP_BYTES; }

/* Since boot, so it also counts what the core allocated and let go: the
 * linear memory comes out smaller, never larger, than the plan allows. */
uint32_t ms_heap_high_water(void) { return free_at_boot - (uint32_t)heap_caps_get_minimum_free_size(MALLOC_CAP_8BIT); }

/* ESP-IDF's malloc places the memory where it fits: when it grows, the
 * small block it was loaded with is given back, but the high-water mark
 * above counted it, so the linear memory comes out that much (16 KiB)
 * smaller than the plan's room for it. */
void ms_heap_place_at_top(int on) { (void)on; }

/* malloc's headers and alignment around the memory's block. */
#define HEAP_SLACK_BYTES 1024u

uint32_t ms_heap_top_room(void) {
  uint32_t used = ms_heap_high_water() + HEAP_SLACK_BYTES;
  return used >= MS_HEAP_BYTES ? 0 : MS_HEAP_BYTES - used;
}
