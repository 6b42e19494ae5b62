/* MPS2 board: CMSDK APB UART0 (interrupt-driven receive into a ring), SysTick
 * as the clock, semihosting exit. Under QEMU -icount the SysTick count is
 * exact, so it also measures executed instructions. */
#include <stdint.h>

#include "board.h"
#include "rx_ring.h"
#include "systick.h"

#define NVIC_ISER0 (*(volatile uint32_t*)0xE000E100u)

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t*)(UART0_BASE + 0x00))
#define UART_STATE (*(volatile uint32_t*)(UART0_BASE + 0x04))
#define UART_CTRL (*(volatile uint32_t*)(UART0_BASE + 0x08))
#define UART_INTCLEAR (*(volatile uint32_t*)(UART0_BASE + 0x0C))
#define UART_BAUDDIV (*(volatile uint32_t*)(UART0_BASE + 0x10))
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_IRQ_EN 8u
#define INT_RX 2u
#define UART0_RX_IRQ 0u

/* MPS2 core clock: SysTick counts at 25 MHz; under -icount shift=0 one
 * instruction takes 1 ns, so one tick is 40 instructions. */
#define CORE_HZ 25000000u
/* One wrap per millisecond: it bounds how long a board sleeps when a byte
 * arrives between its last look at the ring and WFI. */
#define SYSTICK_RELOAD (CORE_HZ / 1000u - 1u)
#define NS_PER_INSTRUCTION_SHIFT0 1u

/* The interrupt is cleared before the data register is drained: a byte that
 * lands after the drain raises it again. Clearing it last would lose that
 * byte's interrupt, and the UART takes nothing more while its one-byte
 * register is full, so the link would stall for good. */
void uart0_rx_handler(void) {
  UART_INTCLEAR = INT_RX;
  while (UART_STATE & STATE_RX_FULL) rx_ring_push((uint8_t)UART_DATA);
}

void board_init(void) {
  UART_BAUDDIV = 16;
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_IRQ_EN;
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
  systick_start(SYSTICK_RELOAD);
  __asm volatile("cpsie i");
}

void board_write(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = p[i];
  }
}

uint32_t board_read(uint8_t* dst, uint32_t max) { return rx_ring_read(dst, max); }

/* Interrupts stay enabled around WFI (simple, and it does not depend on how
 * an emulator wakes WFI under PRIMASK): a byte that lands between the check
 * and WFI waits at most one SysTick period, 1 ms. */
void board_wait_for_input(void) {
  if (rx_ring_empty()) __asm volatile("wfi");
}

uint64_t board_ticks(void) { return systick_ticks(); }

uint32_t board_instructions_per_tick(void) { return 1000000000u / CORE_HZ / NS_PER_INSTRUCTION_SHIFT0; }

uint64_t board_micros(void) { return board_ticks() / (CORE_HZ / 1000000u); }

/* Optional settings placed by QEMU's generic loader before boot
 * (host/sim/qemu.ts): the magic "MSCF", then the agent's memory in bytes. */
#define CONFIG_ADDR 0x21FFFF00u
#define CONFIG_MAGIC 0x4643534Du

uint32_t board_agent_memory(void) {
  const volatile uint32_t* cfg = (const volatile uint32_t*)CONFIG_ADDR;
  return cfg[0] == CONFIG_MAGIC ? cfg[1] : 0u;
}

/* The device key region (common/key_region.h), 256 bytes below the settings.
 * It stands for a flash sector: QEMU's loader writes it from the device's key
 * file before boot (host/sim/qemu.ts), the board advances its boot count in
 * place; zero (not keyed) when nothing was loaded. */
#define KEY_REGION_ADDR 0x21FFFE00u

ms_key_region* board_key_region(void) { return (ms_key_region*)KEY_REGION_ADDR; }

void board_log(const uint8_t* p, uint32_t n) {
  (void)p;
  (void)n;
}
