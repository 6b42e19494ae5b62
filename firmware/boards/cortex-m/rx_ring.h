/* The receive ring of the Cortex-M boards: the UART's interrupt handler
 * pushes, the main loop reads. One producer, one consumer, no lock. */
#ifndef MS_RX_RING_H
#define MS_RX_RING_H

#include <stdint.h>

/* From the interrupt handler. A full ring drops the byte; the link's CRC and
 * go-back-N recover it. */
void rx_ring_push(uint8_t b);
/* Moves up to max bytes into dst; returns the count. */
uint32_t rx_ring_read(uint8_t* dst, uint32_t max);
int rx_ring_empty(void);

#endif
