/* The host interface over the wasm3 interpreter, built from wasm3's source
 * by path (WASM3_SRC, firmware/Makefile). The module's bytes stay in flash
 * (borrowed, parsed at boot); wasm3 allocates its runtime, the parsed module,
 * the compiled code and the linear memory with malloc.
 *
 * Every function is compiled at load, so the heap a board needs is known at
 * boot and no RUN can fail later for want of a code page. The linear memory
 * is wasm3's memory limit (runtime->memoryLimit, set before the module is
 * loaded; memory.size still reports the declared pages, so the agent learns
 * the size from its init argument):
 *   - MS_MEM_STATIC (linux, job images): MS_MEM_BYTES;
 *   - otherwise every byte of the board's heap (runtime/heap-bare.c) that
 *     wasm3's own needs leave: a first load with a small memory measures
 *     them, a second gets the rest. */
#include <string.h>

#include "config.h"
#include "engine.h"
#include "m3_env.h"
#include "wasm3.h"

const uint32_t ms_engine_id = 3;

/* wasm3's value stack; the agent's and the kernels' frames are shallow. */
#ifndef MS_WASM3_STACK_BYTES
#define MS_WASM3_STACK_BYTES (8u * 1024u)
#endif
#define MS_MAX_ARGS 6u

static IM3Environment env;
static IM3Runtime runtime;
static const char* detail = "";

/* Binds the module's imports (agent_imports_wasm3.c; none for kernels.wasm). */
M3Result ms_wasm3_link_imports(IM3Module module);

static ms_engine_status failed(ms_engine_status st, M3Result why) {
  detail = why;
  return st;
}

static void unload(void) {
  if (runtime != NULL) m3_FreeRuntime(runtime); /* and the module it owns */
  if (env != NULL) m3_FreeEnvironment(env);
  runtime = NULL;
  env = NULL;
}

/* Parse, load with a memory of `memory_limit` bytes, link, compile everything. */
static ms_engine_status load_with(const uint8_t* bytes, uint32_t len, uint32_t memory_limit) {
  unload();
  if ((env = m3_NewEnvironment()) == NULL) return failed(MS_ENGINE_ERR_PARSE, "wasm3: no memory for the environment");
  if ((runtime = m3_NewRuntime(env, MS_WASM3_STACK_BYTES, NULL)) == NULL) return failed(MS_ENGINE_ERR_PARSE, "wasm3: no memory for the runtime");
  runtime->memoryLimit = memory_limit;
  IM3Module module;
  M3Result r = m3_ParseModule(env, &module, bytes, len);
  if (r) return failed(MS_ENGINE_ERR_PARSE, r);
  if ((r = m3_LoadModule(runtime, module))) {
    m3_FreeModule(module); /* not loaded: still ours */
    return failed(MS_ENGINE_ERR_PARSE, r);
  }
  if ((r = ms_wasm3_link_imports(module))) return failed(MS_ENGINE_ERR_LINK, r);
  if ((r = m3_CompileModule(module))) return failed(MS_ENGINE_ERR_PARSE, r);
  return MS_ENGINE_OK;
}

#ifdef MS_MEM_STATIC
ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len) { return load_with(bytes, len, MS_MEM_BYTES); }
#else
#include "heap.h"

/* The first load's memory: enough for any module's static data here. */
#define PROBE_MEMORY_BYTES (64u * 1024u)
/* malloc's headers and alignment between the two loads' chunks. */
#define HEAP_SLACK_BYTES 1024u

ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len) {
  ms_engine_status st = load_with(bytes, len, PROBE_MEMORY_BYTES);
  if (st != MS_ENGINE_OK) return st;
  uint32_t size;
  m3_GetMemory(runtime, &size, 0);
  /* The heap hands out what it gave the first load again (freed, reused), so
   * everything beyond wasm3's own needs can be the linear memory. */
  uint32_t own = ms_heap_in_use() - size;
  unload();
  if (own + HEAP_SLACK_BYTES >= ms_heap_bytes()) return failed(MS_ENGINE_ERR_PARSE, "wasm3: the heap holds the module's code but no linear memory");
  return load_with(bytes, len, ms_heap_bytes() - own - HEAP_SLACK_BYTES);
}
#endif

ms_engine_status ms_engine_find(const char* name, uint32_t argc, ms_export* out) {
  IM3Function f;
  M3Result r = m3_FindFunction(&f, runtime, name);
  if (r) return failed(MS_ENGINE_ERR_FIND, r);
  if (m3_GetArgCount(f) != argc || argc > MS_MAX_ARGS || m3_GetRetCount(f) > 1)
    return failed(MS_ENGINE_ERR_FIND, "export has another signature");
  for (uint32_t i = 0; i < argc; i++)
    if (m3_GetArgType(f, i) != c_m3Type_i32) return failed(MS_ENGINE_ERR_FIND, "export takes other than i32 arguments");
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
    if ((r = m3_GetResults(f, 1, retp))) return failed(MS_ENGINE_ERR_TRAP, r);
  }
  if (result) *result = value;
  return MS_ENGINE_OK;
}

uint8_t* ms_engine_memory(uint32_t* size) { return m3_GetMemory(runtime, size, 0); }

const char* ms_engine_detail(void) { return detail; }
