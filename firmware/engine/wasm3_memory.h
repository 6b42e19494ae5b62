/* Resizing a wasm3 module's linear memory from the host, under a memory
 * limit (wasm3_memory.c). Shared by the firmware (engine_wasm3.c) and the
 * Node addon (host/wasm3/binding.c). */
#ifndef MS_WASM3_MEMORY_H
#define MS_WASM3_MEMORY_H

#include <stdint.h>

#include "wasm3.h"

/* Gives the memory `pages` pages as memory.size sees them, of which at most
 * `limit` bytes are allocated (0: all), keeping its contents and zeroing the
 * new bytes; the limit then holds memory.grow to it. NULL on success. */
M3Result ms_wasm3_resize_memory(IM3Runtime runtime, uint32_t pages, uint32_t limit);

#endif
