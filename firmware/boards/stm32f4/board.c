/* STM32F405/407 board (QEMU netduinoplus2, or a real board): USART1 on PA9
 * (TX) / PA10 (RX), 115200 8N1, interrupt-driven receive into a ring;
 * SysTick as the clock. The core runs from its reset clock, so the same
 * image runs on a chip and in QEMU; they differ only in that clock's rate.
 * What lies beyond the chip's own registers is not modelled by QEMU 7.2
 * (RCC and GPIO read 0 there, writes are dropped), which tells the two apart. */
#include <stdint.h>

#include "board.h"
#include "key_flash.h"
#include "rx_ring.h"
#include "systick.h"

#define NVIC_ISER1 (*(volatile uint32_t*)0xE000E104u)
#define USART1_IRQ 37u

#define RCC_BASE 0x40023800u
#define RCC_CR (*(volatile uint32_t*)(RCC_BASE + 0x00))
#define RCC_AHB1ENR (*(volatile uint32_t*)(RCC_BASE + 0x30))
#define RCC_APB2ENR (*(volatile uint32_t*)(RCC_BASE + 0x44))
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB2ENR_USART1EN (1u << 4)

#define GPIOA_BASE 0x40020000u
#define GPIOA_MODER (*(volatile uint32_t*)(GPIOA_BASE + 0x00))
#define GPIOA_AFRH (*(volatile uint32_t*)(GPIOA_BASE + 0x24))
#define GPIO_AF7_USART1 7u

#define USART1_BASE 0x40011000u
#define USART_SR (*(volatile uint32_t*)(USART1_BASE + 0x00))
#define USART_DR (*(volatile uint32_t*)(USART1_BASE + 0x04))
#define USART_BRR (*(volatile uint32_t*)(USART1_BASE + 0x08))
#define USART_CR1 (*(volatile uint32_t*)(USART1_BASE + 0x0C))
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_UE (1u << 13)

/* The reset clock: the chip's 16 MHz internal oscillator (HSI). QEMU runs
 * SysTick at the netduinoplus2 machine's fixed 168 MHz SYSCLK instead. */
#define HSI_HZ 16000000u
#define QEMU_SYSCLK_HZ 168000000u
#define BAUD 115200u

static uint32_t core_hz;

/* Reading DR clears RXNE: one byte per interrupt, and QEMU delivers the
 * next one once it is read. */
void usart1_handler(void) {
  while (USART_SR & SR_RXNE) rx_ring_push((uint8_t)USART_DR);
}

void board_init(void) {
  /* A real chip reports its oscillator ready after reset; QEMU's RCC reads 0. */
  core_hz = (RCC_CR & RCC_CR_HSIRDY) ? HSI_HZ : QEMU_SYSCLK_HZ;
  RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
  RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
  /* PA9, PA10: alternate function 7 (USART1). */
  GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 18)) | (0xAu << 18);
  GPIOA_AFRH = (GPIOA_AFRH & ~(0xFFu << 4)) | (GPIO_AF7_USART1 << 4) | (GPIO_AF7_USART1 << 8);
  USART_BRR = (HSI_HZ + BAUD / 2u) / BAUD; /* APB2 runs at HSI after reset */
  USART_CR1 = CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE;
  NVIC_ISER1 = 1u << (USART1_IRQ - 32u);
  /* One wrap per millisecond bounds a sleep that missed a byte (below). */
  systick_start(core_hz / 1000u - 1u);
  __asm volatile("cpsie i");
}

void board_write(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    while (!(USART_SR & SR_TXE)) {
    }
    USART_DR = p[i];
  }
}

uint32_t board_read(uint8_t* dst, uint32_t max) { return rx_ring_read(dst, max); }

/* A byte that lands between the check and WFI waits at most one SysTick
 * period, 1 ms. */
void board_wait_for_input(void) {
  if (rx_ring_empty()) __asm volatile("wfi");
}

uint64_t board_ticks(void) { return systick_ticks(); }

/* The ticks are core cycles, not a whole number of QEMU instructions. */
uint32_t board_instructions_per_tick(void) { return 0; }

uint64_t board_micros(void) { return systick_ticks() / (core_hz / 1000000u); }

/* The agent gets all the memory the image leaves (no settings word: QEMU's
 * chip has no RAM beyond the 128 KB to place one in). */
uint32_t board_agent_memory(void) { return 0; }

void board_log(const uint8_t* p, uint32_t n) {
  (void)p;
  (void)n;
}

/* The device key region (common/key_flash.h: the region, then a tally of
 * boots) is flash sector 11, the last (128 KB at 0x080E0000): the image
 * never reaches it (link.ld), and the only smaller sectors, the 16 KB ones,
 * lie at the start of flash where the vector table must be. */
#define KEY_SECTOR 11u
#define KEY_SECTOR_ADDR 0x080E0000u
#define KEY_SECTOR_BYTES 0x20000u

/* The flash interface (RM0090 section 3.9); x32 parallelism needs a 2.7 to
 * 3.6 V supply, which every board named in docs/firmware.md has. */
#define FLASH_BASE 0x40023C00u
#define FLASH_KEYR (*(volatile uint32_t*)(FLASH_BASE + 0x04))
#define FLASH_SR (*(volatile uint32_t*)(FLASH_BASE + 0x0C))
#define FLASH_CR (*(volatile uint32_t*)(FLASH_BASE + 0x10))
#define FLASH_KEY1 0x45670123u
#define FLASH_KEY2 0xCDEF89ABu
#define SR_BSY (1u << 16)
#define SR_ERRORS 0xF2u /* PGSERR, PGPERR, PGAERR, WRPERR, OPERR */
#define CR_PG (1u << 0)
#define CR_SER (1u << 1)
#define CR_SNB(n) ((n) << 3)
#define CR_PSIZE_X32 (2u << 8)
#define CR_STRT (1u << 16)
#define CR_LOCK (1u << 31)

/* Runs one program or erase operation (CR's operation bits `op`), with the
 * word `value` written to `addr` for a program; 0 when the chip reports no
 * error. The core stalls on flash reads while the operation runs (a
 * different sector from the code's), so this code may stay in flash. */
static int flash_op(uint32_t op, volatile uint32_t* addr, uint32_t value) {
  if (FLASH_CR & CR_LOCK) {
    FLASH_KEYR = FLASH_KEY1;
    FLASH_KEYR = FLASH_KEY2;
  }
  while (FLASH_SR & SR_BSY) {
  }
  FLASH_SR = SR_ERRORS; /* clear earlier errors (write 1 to clear) */
  FLASH_CR = CR_PSIZE_X32 | op;
  if (op & CR_PG) *addr = value;
  else FLASH_CR = CR_PSIZE_X32 | op | CR_STRT;
  while (FLASH_SR & SR_BSY) {
  }
  int failed = (FLASH_SR & SR_ERRORS) != 0;
  FLASH_CR = CR_LOCK;
  return failed;
}

int board_flash_program(volatile uint32_t* addr, uint32_t value) { return flash_op(CR_PG, addr, value) || *addr != value; }

int board_flash_erase(volatile uint32_t* sector) {
  (void)sector; /* the key's sector is the only one the board erases */
  return flash_op(CR_SER | CR_SNB(KEY_SECTOR), 0, 0);
}

/* QEMU 7.2 models no flash interface (its flash is ROM, the interface
 * unimplemented): there the board writes nothing, and the launcher keeps the
 * count in <keyFile>.boot and loads the region with the boots before this
 * one, as on the MPS2 boards. So the flash writes above have run on no chip. */
ms_key_region* board_key_region(void) { return ms_key_region_in_flash(KEY_SECTOR_ADDR, KEY_SECTOR_BYTES, core_hz != QEMU_SYSCLK_HZ); }
