/* The host interface over the wasm3 interpreter (ESP32, and any board that
 * takes new module bytes over the air). Written against wasm3 v0.5.0, the
 * version boards/esp32/platformio.ini pins; it has not been compiled in this
 * repository's CI (docs/firmware.md). */
#include <string.h>

#include "engine.h"
#include "wasm3.h"

const uint32_t ms_engine_id = 3;

#ifndef MS_WASM3_STACK_BYTES
#define MS_WASM3_STACK_BYTES (32u * 1024u)
#endif
#define MS_MAX_ARGS 6u

static IM3Environment env;
static IM3Runtime runtime;
static const char* detail = "";

/* Binds the module's imports; each engine has its own glue. */
M3Result ms_wasm3_link_imports(IM3Module module);

static ms_engine_status failed(ms_engine_status st, M3Result why) {
  detail = why;
  return st;
}

ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len) {
  if (runtime != NULL) m3_FreeRuntime(runtime);
  if (env == NULL) env = m3_NewEnvironment();
  if (env == NULL) return failed(MS_ENGINE_ERR_PARSE, "wasm3: no memory for the environment");
  runtime = m3_NewRuntime(env, MS_WASM3_STACK_BYTES, NULL);
  if (runtime == NULL) return failed(MS_ENGINE_ERR_PARSE, "wasm3: no memory for the runtime");
  IM3Module module;
  M3Result r = m3_ParseModule(env, &module, bytes, len);
  if (r) return failed(MS_ENGINE_ERR_PARSE, r);
  r = m3_LoadModule(runtime, module); /* the runtime owns the module from here */
  if (r) {
    m3_FreeModule(module);
    return failed(MS_ENGINE_ERR_PARSE, r);
  }
  r = ms_wasm3_link_imports(module);
  if (r) return failed(MS_ENGINE_ERR_LINK, r);
  return MS_ENGINE_OK;
}

ms_engine_status ms_engine_find(const char* name, uint32_t argc, ms_export* out) {
  IM3Function f;
  M3Result r = m3_FindFunction(&f, runtime, name);
  if (r) return failed(MS_ENGINE_ERR_FIND, r);
  if (m3_GetArgCount(f) != argc || argc > MS_MAX_ARGS || m3_GetRetCount(f) > 1)
    return failed(MS_ENGINE_ERR_FIND, "export has another signature");
  out->impl = f;
  out->argc = argc;
  return MS_ENGINE_OK;
}

ms_engine_status ms_engine_call(const ms_export* fn, const uint32_t* args, uint32_t* result) {
  IM3Function f = (IM3Function)fn->impl;
  const void* argp[MS_MAX_ARGS];
  for (uint32_t i = 0; i < fn->argc; i++) argp[i] = &args[i];
  M3Result r = m3_Call(f, fn->argc, argp);
  if (r) return failed(MS_ENGINE_ERR_TRAP, r);
  uint32_t value = 0;
  if (m3_GetRetCount(f) == 1) {
    const void* retp[1] = {&value};
    r = m3_GetResults(f, 1, retp);
    if (r) return failed(MS_ENGINE_ERR_TRAP, r);
  }
  if (result) *result = value;
  return MS_ENGINE_OK;
}

uint8_t* ms_engine_memory(uint32_t* size) { return m3_GetMemory(runtime, size, 0); }

const char* ms_engine_detail(void) { return detail; }
