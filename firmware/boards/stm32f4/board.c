/* STM32F405/407 board (QEMU netduinoplus2, or a real board): USART1 on PA9
 * (TX) / PA10 (RX), 115200 8N1, interrupt-driven receive into a ring;
 * SysTick as the clock. The core runs from its reset clock, so the same
 * image runs on a chip and in QEMU; they differ only in that clock's rate.
 * What lies beyond the chip's own registers is not modelled by QEMU 7.2
 * (RCC and GPIO read 0 there, writes are dropped), which tells the two apart. */
#include <stdint.h>

#include "board.h"
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

/* No device key region: the board is unkeyed (the key region lives in memory QEMU has beyond the MPS2 chips' RAM). */
ms_key_region* board_key_region(void) { return 0; }
