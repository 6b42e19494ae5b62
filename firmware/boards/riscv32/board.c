/* RISC-V rv32 board (QEMU virt): the 16550 UART at 0x10000000, polled, its
 * receive interrupt routed through the PLIC only to wake the core from WFI;
 * the CLINT's 10 MHz mtime as the clock; the SiFive test device to end QEMU.
 * QEMU holds bytes back while the UART's receive buffer is full, so polling
 * loses none there; a chip with a small FIFO would need the interrupt to
 * drain it (docs/firmware.md). */
#include <stdint.h>

#include "board.h"
#include "key_flash.h"

#define UART_BASE 0x10000000u
#define UART_RBR (*(volatile uint8_t*)(UART_BASE + 0))
#define UART_THR (*(volatile uint8_t*)(UART_BASE + 0))
#define UART_IER (*(volatile uint8_t*)(UART_BASE + 1))
#define UART_FCR (*(volatile uint8_t*)(UART_BASE + 2))
#define UART_LSR (*(volatile uint8_t*)(UART_BASE + 5))
#define LSR_DATA_READY 0x01u
#define LSR_THR_EMPTY 0x20u
#define IER_RX_AVAILABLE 0x01u
#define UART_IRQ 10u

#define PLIC_BASE 0x0C000000u
#define PLIC_PRIORITY(irq) (*(volatile uint32_t*)(PLIC_BASE + 4u * (irq)))
#define PLIC_ENABLE_HART0_M (*(volatile uint32_t*)(PLIC_BASE + 0x2000u))
#define PLIC_THRESHOLD_HART0_M (*(volatile uint32_t*)(PLIC_BASE + 0x200000u))
#define PLIC_CLAIM_HART0_M (*(volatile uint32_t*)(PLIC_BASE + 0x200004u))

#define CLINT_MTIME_LO (*(volatile uint32_t*)0x0200BFF8u)
#define CLINT_MTIME_HI (*(volatile uint32_t*)0x0200BFFCu)
#define MTIME_HZ 10000000u

#define TEST_DEVICE (*(volatile uint32_t*)0x00100000u)
#define TEST_PASS 0x5555u
#define TEST_FAIL 0x3333u

void rv_enable_external_wakeup(void);

void board_init(void) {
  UART_FCR = 0x07; /* FIFOs on and cleared */
  UART_IER = IER_RX_AVAILABLE;
  PLIC_PRIORITY(UART_IRQ) = 1;
  PLIC_ENABLE_HART0_M = 1u << UART_IRQ;
  PLIC_THRESHOLD_HART0_M = 0;
  rv_enable_external_wakeup();
}

void board_write(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    while (!(UART_LSR & LSR_THR_EMPTY)) {
    }
    UART_THR = p[i];
  }
}

uint32_t board_read(uint8_t* dst, uint32_t max) {
  uint32_t n = 0;
  while (n < max && (UART_LSR & LSR_DATA_READY)) dst[n++] = UART_RBR;
  return n;
}

/* WFI returns once the UART's interrupt is pending (a byte that arrived
 * before it makes it return at once); claiming and completing it at the
 * PLIC lets the next byte wake the core again. */
void board_wait_for_input(void) {
  if (UART_LSR & LSR_DATA_READY) return;
  __asm volatile("wfi");
  uint32_t irq = PLIC_CLAIM_HART0_M;
  if (irq != 0) PLIC_CLAIM_HART0_M = irq;
}

static uint64_t mtime(void) {
  uint32_t hi, lo;
  do {
    hi = CLINT_MTIME_HI;
    lo = CLINT_MTIME_LO;
  } while (hi != CLINT_MTIME_HI);
  return ((uint64_t)hi << 32) | lo;
}

uint64_t board_micros(void) { return mtime() / (MTIME_HZ / 1000000u); }
uint64_t board_ticks(void) { return 0; }
uint32_t board_instructions_per_tick(void) { return 0; }

void board_exit(int code) {
  TEST_DEVICE = code == 0 ? TEST_PASS : (((uint32_t)code << 16) | TEST_FAIL);
  for (;;) {
  }
}

void trap_report(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
  char buf[21];
  board_puts("\nmicrosplit: TRAP mcause=0x");
  board_puts(ms_utoa(mcause, 16, buf));
  board_puts(" mepc=0x");
  board_puts(ms_utoa(mepc, 16, buf));
  board_puts(" mtval=0x");
  board_puts(ms_utoa(mtval, 16, buf));
  board_puts("\n");
  board_exit(3);
}

/* Optional settings placed by QEMU's generic loader before boot
 * (host/sim/qemu.ts), past the chip's RAM: the magic "MSCF", then the
 * agent's memory in bytes. */
#define CONFIG_ADDR 0x80800000u
#define CONFIG_MAGIC 0x4643534Du

uint32_t board_agent_memory(void) {
  const volatile uint32_t* cfg = (const volatile uint32_t*)CONFIG_ADDR;
  return cfg[0] == CONFIG_MAGIC ? cfg[1] : 0u;
}

void board_log(const uint8_t* p, uint32_t n) {
  (void)p;
  (void)n;
}

/* The device key region (common/key_flash.h: the region, then a tally of
 * boots) is the second 256 KiB sector of virt's first CFI flash bank
 * (pflash0 at 0x20000000; QEMU keeps it in the file given with -drive
 * if=pflash,unit=0, whose first sector holds the jump QEMU then boots
 * through). The bank is two x16 Intel-command-set chips side by side on the
 * 32-bit bus, so every command goes to both halves of the word. */
#define KEY_SECTOR_ADDR 0x20040000u
#define KEY_SECTOR_BYTES 0x40000u
#define CFI_PROGRAM 0x00400040u
#define CFI_ERASE 0x00200020u
#define CFI_CONFIRM 0x00D000D0u
#define CFI_CLEAR_STATUS 0x00500050u
#define CFI_READ_ARRAY 0x00FF00FFu
#define CFI_READY 0x00800080u
#define CFI_ERRORS 0x003A003Au /* erase, program, VPP and lock errors */

/* Waits for both chips, returns to reading data; 0 when neither reports an error. */
static int cfi_finish(volatile uint32_t* at) {
  uint32_t status;
  while (((status = *at) & CFI_READY) != CFI_READY) {
  }
  *at = CFI_CLEAR_STATUS;
  *at = CFI_READ_ARRAY;
  return (status & CFI_ERRORS) != 0;
}

int board_flash_program(volatile uint32_t* addr, uint32_t value) {
  *addr = CFI_PROGRAM;
  *addr = value;
  return cfi_finish(addr) || *addr != value;
}

int board_flash_erase(volatile uint32_t* sector) {
  *sector = CFI_ERASE;
  *sector = CFI_CONFIRM;
  return cfi_finish(sector);
}

ms_key_region* board_key_region(void) { return ms_key_region_in_flash(KEY_SECTOR_ADDR, KEY_SECTOR_BYTES, 1); }
