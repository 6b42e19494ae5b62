/* The one interface a board uses to host a WebAssembly module: load it, find
 * and call its exports, view its linear memory. Implemented ahead-of-time by
 * wasm2c (engine_wasm2c.c) and by the wasm3 interpreter (engine_wasm3.c).
 * Every call returns a status naming the stage that failed; ms_engine_detail()
 * gives the reason as a static string. */
#ifndef MS_ENGINE_H
#define MS_ENGINE_H

#include <stdint.h>

typedef enum {
  MS_ENGINE_OK = 0,
  MS_ENGINE_ERR_PARSE, /* the module bytes were rejected */
  MS_ENGINE_ERR_LINK,  /* an import could not be bound */
  MS_ENGINE_ERR_FIND,  /* no export of that name and arity */
  MS_ENGINE_ERR_TRAP,  /* the module trapped; the detail names the trap */
} ms_engine_status;

/* An export found by ms_engine_find; valid until the next ms_engine_load. */
typedef struct {
  const void* impl;
  uint32_t argc;
} ms_export;

/* Instantiates the module. wasm2c: the module is compiled in and `bytes`
 * must be NULL. wasm3: `bytes` is borrowed and must outlive the engine. */
ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len);

/* Finds export `name` taking `argc` i32 arguments and returning one i32 or
 * nothing (then the call's result is 0). */
ms_engine_status ms_engine_find(const char* name, uint32_t argc, ms_export* out);

/* Calls an export; a trap inside it returns MS_ENGINE_ERR_TRAP and leaves
 * the module usable (its memory as the trap left it). */
ms_engine_status ms_engine_call(const ms_export* fn, const uint32_t* args, uint32_t* result);

/* The module's linear memory, borrowed until the next ms_engine_load. */
uint8_t* ms_engine_memory(uint32_t* size);

const char* ms_engine_detail(void);

/* The engine as the agent's init() takes it (docs/protocol.md section 6):
 * 2 wasm2c, 3 wasm3. */
extern const uint32_t ms_engine_id;

#endif
