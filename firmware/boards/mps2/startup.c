/* Reset and the vector table for the MPS2 boards. */
#include <stdint.h>
#include <string.h>

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_top;
int main(void);
void hardfault_handler(void);
void systick_handler(void);
void uart0_rx_handler(void);
void board_exit(int code) __attribute__((noreturn));

void reset_handler(void) {
  memcpy(&_data_start, &_data_load, (uint32_t)((uint8_t*)&_data_end - (uint8_t*)&_data_start));
  memset(&_bss_start, 0, (uint32_t)((uint8_t*)&_bss_end - (uint8_t*)&_bss_start));
  board_exit(main());
}

static void unexpected_handler(void) { hardfault_handler(); }

/* Cortex-M exceptions 1-15, then the MPS2 interrupts: UART0 RX is IRQ 0. */
__attribute__((section(".vectors"), used)) static const void* const vectors[16 + 1] = {
    &_stack_top,          reset_handler,      unexpected_handler, hardfault_handler,
    hardfault_handler,    hardfault_handler,  hardfault_handler,  0,
    0,                    0,                  0,                  unexpected_handler,
    unexpected_handler,   0,                  unexpected_handler, systick_handler,
    uart0_rx_handler,
};
