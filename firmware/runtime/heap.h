/* The heap of bare-metal wasm3 images (runtime/heap-bare.c): one static
 * region holding the runtime, the parsed module, the compiled code and the
 * linear memory. */
#ifndef MS_HEAP_H
#define MS_HEAP_H

#include <stdint.h>

/* Bytes of the heap region. */
uint32_t ms_heap_bytes(void);
/* The most bytes of the region malloc has ever taken (sbrk's high-water mark). */
uint32_t ms_heap_high_water(void);

#endif
