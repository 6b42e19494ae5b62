/* The host interface over a module compiled ahead of time by wasm2c. */
#include <string.h>

#include "config.h"
#include "engine.h"
#include "engine_wasm2c_glue.h"
#include "wasm-rt.h"

const uint32_t ms_engine_id = 2;

wasm_rt_trap_t ms_last_trap(void);

#define MS_MAX_ARGS 6u

static void* instance;
static const char* detail = "";

/* Every entry into the module goes through here so that a trap lands back in
 * this frame. volatile: the values must survive the longjmp. */
static ms_engine_status guarded_call(const ms_w2c_export* e, const uint32_t* args, uint32_t* result) {
  jmp_buf target;
  jmp_buf* volatile outer = wasm_rt_get_unwind_target();
  volatile uint32_t value = 0;
  if (wasm_rt_try(target) != 0) {
    wasm_rt_set_unwind_target(outer);
    detail = wasm_rt_strerror(ms_last_trap());
    return MS_ENGINE_ERR_TRAP;
  }
  wasm_rt_set_unwind_target(&target);
  void* in = instance;
  const uint32_t* a = args;
  if (e->has_result) {
    switch (e->argc) {
      case 0: value = ((uint32_t(*)(void*))e->fn)(in); break;
      case 1: value = ((uint32_t(*)(void*, uint32_t))e->fn)(in, a[0]); break;
      case 2: value = ((uint32_t(*)(void*, uint32_t, uint32_t))e->fn)(in, a[0], a[1]); break;
      case 3: value = ((uint32_t(*)(void*, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2]); break;
      case 4: value = ((uint32_t(*)(void*, uint32_t, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2], a[3]); break;
      case 5: value = ((uint32_t(*)(void*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2], a[3], a[4]); break;
      case 6: value = ((uint32_t(*)(void*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2], a[3], a[4], a[5]); break;
    }
  } else {
    switch (e->argc) {
      case 0: ((void (*)(void*))e->fn)(in); break;
      case 1: ((void (*)(void*, uint32_t))e->fn)(in, a[0]); break;
      case 2: ((void (*)(void*, uint32_t, uint32_t))e->fn)(in, a[0], a[1]); break;
      case 3: ((void (*)(void*, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2]); break;
      case 4: ((void (*)(void*, uint32_t, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2], a[3]); break;
      case 5: ((void (*)(void*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2], a[3], a[4]); break;
      case 6: ((void (*)(void*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t))e->fn)(in, a[0], a[1], a[2], a[3], a[4], a[5]); break;
    }
  }
  wasm_rt_set_unwind_target(outer);
  if (result) *result = value;
  return MS_ENGINE_OK;
}

ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len) {
  (void)len;
  if (bytes != NULL) {
    detail = "wasm2c engine: the module is compiled in; pass no bytes";
    return MS_ENGINE_ERR_PARSE;
  }
  jmp_buf target;
  if (wasm_rt_try(target) != 0) {
    wasm_rt_set_unwind_target(NULL);
    detail = wasm_rt_strerror(ms_last_trap());
    return MS_ENGINE_ERR_TRAP;
  }
  wasm_rt_set_unwind_target(&target);
  if (instance != NULL) ms_w2c_free();
  wasm_rt_init();
  instance = ms_w2c_instantiate();
  wasm_rt_set_unwind_target(NULL);
  return MS_ENGINE_OK;
}

ms_engine_status ms_engine_find(const char* name, uint32_t argc, ms_export* out) {
  for (const ms_w2c_export* e = ms_w2c_exports; e->name != NULL; e++) {
    if (strcmp(e->name, name) != 0) continue;
    if (e->argc != argc || argc > MS_MAX_ARGS) {
      detail = "export has another number of arguments";
      return MS_ENGINE_ERR_FIND;
    }
    out->impl = e;
    out->argc = argc;
    return MS_ENGINE_OK;
  }
  detail = "no export of that name with i32 arguments";
  return MS_ENGINE_ERR_FIND;
}

ms_engine_status ms_engine_call(const ms_export* fn, const uint32_t* args, uint32_t* result) {
  return guarded_call((const ms_w2c_export*)fn->impl, args, result);
}

extern uint8_t ms_linear_memory[];

uint8_t* ms_engine_memory(uint32_t* size) {
  *size = MS_MEM_BYTES;
  return ms_linear_memory;
}

const char* ms_engine_detail(void) { return detail; }
