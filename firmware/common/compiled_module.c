/* Boards whose engine is wasm2c: the module is compiled into the image. */
#include "board.h"

const uint8_t* board_agent_module(uint32_t* len) {
  *len = 0;
  return 0;
}
