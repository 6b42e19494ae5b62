/* board_exit for the Cortex-M boards: semihosting SYS_EXIT_EXTENDED, which
 * QEMU (-semihosting-config enable=on) turns into its exit code. On a chip
 * without a debugger attached the BKPT stops the core instead. */
#include <stdint.h>

#include "board.h"

void board_exit(int code) {
  /* ADP_Stopped_ApplicationExit with the code. */
  static uint32_t block[2];
  block[0] = 0x20026u;
  block[1] = (uint32_t)code;
  register uint32_t r0 __asm("r0") = 0x20u;
  register uint32_t r1 __asm("r1") = (uint32_t)block;
  __asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {
  }
}
