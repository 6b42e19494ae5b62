/* The host interface over the wasm3 interpreter, built from wasm3's source
 * by path (WASM3_SRC, firmware/Makefile). The module's bytes stay in flash
 * (borrowed, parsed at boot); wasm3 allocates its runtime, the parsed module,
 * the compiled code and the linear memory with malloc.
 *
 * Every function is compiled at load, so the heap a board needs is known at
 * boot and no RUN can fail later for want of a code page. The module is
 * loaded with a small memory for its static data; once its code is compiled,
 * the memory grows to its final size and wasm3's memory limit
 * (runtime->memoryLimit; memory.size still reports whole pages, so the agent
 * learns the size from its init argument) holds it there:
 *   - MS_MEM_STATIC (linux, job images): MS_MEM_BYTES;
 *   - otherwise every byte of the board's heap (runtime/heap.h) that
 *     wasm3's own needs leave, measured at the first boot. There the memory
 *     is the heap's top block: loaded small, it grows downwards to meet the
 *     compiled code, so its load-time bytes leave no hole below the code. */
#include <string.h>

#include "config.h"
#include "engine.h"
#include "m3_env.h"
#include "wasm3.h"
#include "wasm3_memory.h"

const uint32_t ms_engine_id = 3;

/* wasm3's value stack. Neither module recurses, so its use follows from the
 * call graph: measured on the linux wasm3 image (the highest slot written),
 * the agent's deepest path takes 2,352 bytes (keyed and encrypted, PROFILE,
 * person_detect's kernel ops in one fragment), every TFLM vector 1,476. */
#ifndef MS_WASM3_STACK_BYTES
#define MS_WASM3_STACK_BYTES (4u * 1024u)
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

/* The memory a module is loaded with: enough for the static data of the
 * modules here (agent.wasm's ends near 11 KB); a module with more fails to
 * load, naming its data segment. */
#define LOAD_MEMORY_BYTES (16u * 1024u)

#ifdef MS_MEM_STATIC
static void memory_at_top(int on) { (void)on; }
#else
#include "heap.h"
/* m3_LoadModule's first allocation is the module's memory (InitMemory). */
static void memory_at_top(int on) { ms_heap_place_at_top(on); }
#endif

/* Parse, load with LOAD_MEMORY_BYTES of memory, link, compile everything. */
static ms_engine_status load_module(const uint8_t* bytes, uint32_t len) {
  unload();
  if ((env = m3_NewEnvironment()) == NULL) return failed(MS_ENGINE_ERR_PARSE, "wasm3: no memory for the environment");
  if ((runtime = m3_NewRuntime(env, MS_WASM3_STACK_BYTES, NULL)) == NULL) return failed(MS_ENGINE_ERR_PARSE, "wasm3: no memory for the runtime");
  runtime->memoryLimit = LOAD_MEMORY_BYTES;
  IM3Module module;
  M3Result r = m3_ParseModule(env, &module, bytes, len);
  if (r) return failed(MS_ENGINE_ERR_PARSE, r);
  memory_at_top(1);
  r = m3_LoadModule(runtime, module);
  memory_at_top(0);
  if (r) {
    m3_FreeModule(module); /* not loaded: still ours */
    return failed(MS_ENGINE_ERR_PARSE, r);
  }
  if ((r = ms_wasm3_link_imports(module))) return failed(MS_ENGINE_ERR_LINK, r);
  if ((r = m3_CompileModule(module))) return failed(MS_ENGINE_ERR_PARSE, r);
  return MS_ENGINE_OK;
}

/* Grows the loaded module's memory to `bytes`, whole pages as memory.size
 * sees them; the memory limit holds it there. */
static ms_engine_status grow_memory(uint32_t bytes) {
  uint32_t pages = (uint32_t)(((uint64_t)bytes + MS_WASM_PAGE_BYTES - 1u) / MS_WASM_PAGE_BYTES);
  if (pages < runtime->memory.numPages) pages = runtime->memory.numPages;
  if (bytes < runtime->memory.mallocated->length) return failed(MS_ENGINE_ERR_PARSE, "wasm3: the memory is smaller than the module's static data");
  M3Result r = ms_wasm3_resize_memory(runtime, pages, bytes);
  return r ? failed(MS_ENGINE_ERR_PARSE, r) : MS_ENGINE_OK;
}

#ifdef MS_MEM_STATIC
ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len) {
  ms_engine_status st = load_module(bytes, len);
  return st != MS_ENGINE_OK ? st : grow_memory(MS_MEM_BYTES);
}
#else
/* The memory's size, fixed at the first boot: a restart after a trap gets
 * the same bytes, the allocator repeating its layout (heap-bare.c). */
static uint32_t memory_bytes;

ms_engine_status ms_engine_load(const uint8_t* bytes, uint32_t len) {
  ms_engine_status st = load_module(bytes, len);
  if (st != MS_ENGINE_OK) return st;
  if (memory_bytes == 0) {
    /* The memory block holds wasm3's header, then the bytes. */
    uint32_t room = ms_heap_top_room();
    if (room < sizeof(M3MemoryHeader) + LOAD_MEMORY_BYTES)
      return failed(MS_ENGINE_ERR_PARSE, "wasm3: the heap holds the module's compiled code but too little linear memory beside it (MS_HEAP_BYTES)");
    memory_bytes = room - sizeof(M3MemoryHeader);
  }
  return grow_memory(memory_bytes);
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
