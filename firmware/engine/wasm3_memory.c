/* In place of wasm3's ResizeMemory, which takes the old size to be the
 * declared pages: under a memory limit below them it skips the reallocation
 * or the zeroing. */
#include "wasm3_memory.h"

#include <stdlib.h>
#include <string.h>

#include "m3_env.h"
#include "m3_exec_defs.h"

M3Result ms_wasm3_resize_memory(IM3Runtime runtime, uint32_t pages, uint32_t limit) {
  M3Memory* m = &runtime->memory;
  if (pages > m->maxPages) return m3Err_wasmMemoryOverflow;
  uint64_t bytes = (uint64_t)pages * m->pageSize;
  if (limit != 0 && bytes > limit) bytes = limit;
  if (bytes > UINT32_MAX - sizeof(M3MemoryHeader)) return m3Err_wasmMemoryOverflow;
  uint32_t before = m->mallocated ? (uint32_t)m->mallocated->length : 0;
  M3MemoryHeader* grown = realloc(m->mallocated, sizeof(M3MemoryHeader) + (size_t)bytes);
  if (grown == NULL) return m3Err_mallocFailed;
  if (bytes > before) memset(m3MemData(grown) + before, 0, (size_t)bytes - before);
  if (m->mallocated == NULL) {
    grown->runtime = runtime;
    grown->maxStack = (m3slot_t*)runtime->stack + runtime->numStackSlots;
  }
  grown->length = (size_t)bytes;
  m->mallocated = grown;
  m->numPages = pages;
  runtime->memoryLimit = limit;
  return m3Err_none;
}
