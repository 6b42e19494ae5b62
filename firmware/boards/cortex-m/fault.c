/* HardFault: report where over the UART (polled, interrupts may be dead),
 * then stop the board with a non-zero exit. */
#include <stdint.h>

#include "board.h"

#define SCB_CFSR (*(volatile uint32_t*)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t*)0xE000ED2Cu)
#define SCB_BFAR (*(volatile uint32_t*)0xE000ED38u)

static void put_hex(const char* label, uint32_t v) {
  char buf[21];
  board_puts(label);
  board_puts(ms_utoa(v, 16, buf));
}

void hardfault_report(const uint32_t* frame) {
  board_puts("\nmicrosplit: HARDFAULT");
  put_hex(" pc=0x", frame[6]);
  put_hex(" lr=0x", frame[5]);
  put_hex(" cfsr=0x", SCB_CFSR);
  put_hex(" hfsr=0x", SCB_HFSR);
  put_hex(" bfar=0x", SCB_BFAR);
  board_puts("\n");
  board_exit(3);
}

/* Picks the stack the fault frame was pushed on, then reports it. */
__attribute__((naked)) void hardfault_handler(void) {
  __asm volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "b hardfault_report\n");
}
