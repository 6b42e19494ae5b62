#include "rx_ring.h"

#include "board.h"

static volatile uint8_t ring[MS_RX_RING_BYTES];
static volatile uint32_t ring_head, ring_tail;

void rx_ring_push(uint8_t b) {
  uint32_t next = (ring_head + 1u) % MS_RX_RING_BYTES;
  if (next != ring_tail) {
    ring[ring_head] = b;
    ring_head = next;
  }
}

uint32_t rx_ring_read(uint8_t* dst, uint32_t max) {
  uint32_t n = 0;
  while (n < max && ring_tail != ring_head) {
    dst[n++] = ring[ring_tail];
    ring_tail = (ring_tail + 1u) % MS_RX_RING_BYTES;
  }
  return n;
}

int rx_ring_empty(void) { return ring_tail == ring_head; }
