/* Boards whose engine loads module bytes (wasm3): the module is a C array in
 * flash (tools/embed-wasm.sh; the ESP32 build's embed_wasm.py), borrowed by
 * the engine for as long as it runs. */
#include "board.h"

extern const uint8_t ms_agent_wasm[];
extern const uint32_t ms_agent_wasm_len;

const uint8_t* board_agent_module(uint32_t* len) {
  *len = ms_agent_wasm_len;
  return ms_agent_wasm;
}
