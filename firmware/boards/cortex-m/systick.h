/* SysTick as the Cortex-M boards' clock: it wraps every `reload + 1` core
 * cycles, the wraps counted by its interrupt. */
#ifndef MS_SYSTICK_H
#define MS_SYSTICK_H

#include <stdint.h>

/* Starts SysTick on the processor clock, wrapping every reload + 1 cycles. */
void systick_start(uint32_t reload);
/* Core cycles since systick_start. */
uint64_t systick_ticks(void);

#endif
