/* The heap of wasm3 images on boards (runtime/heap-bare.c; on the ESP32,
 * boards/esp32/src/heap_esp32.c): one region holding the runtime, the parsed
 * module, the compiled code and the linear memory. */
#ifndef MS_HEAP_H
#define MS_HEAP_H

#include <stdint.h>

/* Bytes of the heap region. */
uint32_t ms_heap_bytes(void);
/* The most bytes of the region malloc has ever taken, the top block aside (sbrk's high-water mark). */
uint32_t ms_heap_high_water(void);
/* On: the next allocation is the region's one top block (the linear memory),
 * which grows in place downwards, below nothing else; off: cancels that. */
void ms_heap_place_at_top(int on);
/* Bytes a top block can hold beside the most the rest has ever taken. */
uint32_t ms_heap_top_room(void);

#endif
