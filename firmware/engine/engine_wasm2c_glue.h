/* What tools/w2c-exports.sh generates for one wasm2c module. */
#ifndef MS_ENGINE_WASM2C_GLUE_H
#define MS_ENGINE_WASM2C_GLUE_H

#include <stdint.h>

typedef void (*ms_w2c_fn)(void);
typedef struct {
  const char* name;
  ms_w2c_fn fn;
  uint32_t argc;
  uint32_t has_result;
} ms_w2c_export;

/* Runs the module's init and instantiation; traps unwind to the caller. */
void* ms_w2c_instantiate(void);
void ms_w2c_free(void);
/* Terminated by an entry whose name is NULL. */
extern const ms_w2c_export ms_w2c_exports[];

#endif
