/* ESP32 (Arduino core): UART0 as the link, esp_timer as the clock, the device
 * key from NVS (Preferences). Never compiled here (docs/firmware.md). The common
 * main (common/agent_main.c, renamed ms_board_main) runs in its own task with
 * a stack large enough for the interpreter; the module's bytes are
 * common/embedded_module.c's, embedded by embed_wasm.py. */
#include <Arduino.h>
#include <Preferences.h>
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

/* The key region from NVS (docs/firmware.md "Device keys"): the key is the
 * blob "key" in namespace "microsplit" of the partition mskey
 * (partitions.csv), flashed from `microsplit provision --nvs`; erasing that
 * partition un-keys the device. The boot count is "boots" in the same
 * namespace of the default nvs partition, which provisioning never writes, so
 * it survives rotation and un-keying; it is written with this boot counted at
 * the first start (the firmware then advances the region's copy in RAM to the
 * same number); restarts after a trap reuse the region. */
ms_key_region* board_key_region(void) {
  static ms_key_region region;
  static bool loaded;
  if (loaded) return &region;
  Preferences key;
  if (!key.begin("microsplit", true, "mskey")) return nullptr; /* no partition or never provisioned */
  size_t n = key.getBytesLength("key");
  /* A key over 64 bytes is reported by the firmware (its length stays in the region). */
  if (n > 0 && n <= MS_KEY_MAX_BYTES) key.getBytes("key", region.key, n);
  key.end();
  if (n == 0) return nullptr;
  Preferences count;
  if (!count.begin("microsplit", false)) return nullptr;
  uint32_t boots = count.getUInt("boots", 0);
  bool saved = count.putUInt("boots", boots + 1) == sizeof(uint32_t);
  count.end();
  if (!saved) return nullptr; /* a session could repeat: stay unkeyed, and the gateway holding the key refuses the device */
  region.magic = MS_KEY_REGION_MAGIC;
  region.boots = boots;
  region.length = (uint32_t)n;
  loaded = true;
  return &region;
}

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
