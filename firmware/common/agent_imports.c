#include "agent_imports.h"

#include "board.h"
#include "engine.h"

static const uint8_t* checked(uint32_t ptr, uint32_t len) {
  uint32_t size;
  uint8_t* mem = ms_engine_memory(&size);
  if (ptr > size || len > size - ptr) return 0;
  return mem + ptr;
}

bool ms_agent_link_write(uint32_t ptr, uint32_t len) {
  const uint8_t* p = checked(ptr, len);
  if (p == 0) return false;
  board_write(p, len);
  return true;
}

bool ms_agent_log(uint32_t ptr, uint32_t len) {
  const uint8_t* p = checked(ptr, len);
  if (p == 0) return false;
  board_log(p, len);
  return true;
}

uint64_t ms_agent_clock_us(void) { return board_micros(); }
