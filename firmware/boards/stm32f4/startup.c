/* Reset and the vector table for the STM32F405/407: the Cortex-M exceptions,
 * then the chip's interrupts up to USART1 (IRQ 37). */
#include <stdint.h>
#include <string.h>

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_top;
int main(void);
void hardfault_handler(void);
void systick_handler(void);
void usart1_handler(void);
void board_exit(int code) __attribute__((noreturn));

#define USART1_IRQ 37

void reset_handler(void) {
  memcpy(&_data_start, &_data_load, (uint32_t)((uint8_t*)&_data_end - (uint8_t*)&_data_start));
  memset(&_bss_start, 0, (uint32_t)((uint8_t*)&_bss_end - (uint8_t*)&_bss_start));
  board_exit(main());
}

static void unexpected_handler(void) { hardfault_handler(); }

__attribute__((section(".vectors"), used)) static const void* const vectors[16 + USART1_IRQ + 1] = {
    [0] = &_stack_top,
    [1] = reset_handler,
    [2] = unexpected_handler, /* NMI */
    [3] = hardfault_handler,
    [4] = hardfault_handler, /* MemManage */
    [5] = hardfault_handler, /* BusFault */
    [6] = hardfault_handler, /* UsageFault */
    [11] = unexpected_handler, /* SVCall */
    [12] = unexpected_handler, /* DebugMonitor */
    [14] = unexpected_handler, /* PendSV */
    [15] = systick_handler,
    [16 + USART1_IRQ] = usart1_handler,
};
