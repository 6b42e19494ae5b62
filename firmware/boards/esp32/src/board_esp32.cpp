/* ESP32 (Arduino core): UART0 as the link, esp_timer as the clock. The common
 * main (common/agent_main.c, renamed ms_board_main) runs in its own task with
 * a stack large enough for the interpreter; the module's bytes are
 * common/embedded_module.c's, embedded by embed_wasm.py. */
#include <Arduino.h>
#include <esp_timer.h>

extern "C" {
#include "board.h"
#include "engine.h"
int ms_board_main(void);
void ms_esp32_heap_mark(void);
}

#define LINK_BAUD 921600
#define MAIN_STACK_BYTES (48 * 1024)

extern "C" {

void board_init(void) {
  ms_esp32_heap_mark();
  Serial.setRxBufferSize(MS_RX_RING_BYTES);
  Serial.begin(LINK_BAUD);
}

uint32_t board_agent_memory(void) { return 0; }

/* Not keyed yet: an NVS partition would hold the key region (docs/firmware.md). */
ms_key_region* board_key_region(void) { return nullptr; }

void board_write(const uint8_t* p, uint32_t n) { Serial.write(p, n); }

uint32_t board_read(uint8_t* dst, uint32_t max) {
  uint32_t n = 0;
  while (n < max && Serial.available() > 0) dst[n++] = (uint8_t)Serial.read();
  return n;
}

void board_wait_for_input(void) { vTaskDelay(1); }

uint64_t board_micros(void) { return (uint64_t)esp_timer_get_time(); }
uint64_t board_ticks(void) { return 0; }
uint32_t board_instructions_per_tick(void) { return 0; }

void board_log(const uint8_t* p, uint32_t n) {
  (void)p;
  (void)n;
}

void board_exit(int code) {
  (void)code;
  esp_restart();
  for (;;) {
  }
}
}

static void main_task(void*) { board_exit(ms_board_main()); }

void setup() { xTaskCreate(main_task, "microsplit", MAIN_STACK_BYTES, nullptr, 5, nullptr); }

void loop() { vTaskDelay(1000); }
