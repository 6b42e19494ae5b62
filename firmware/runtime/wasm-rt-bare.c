/* The wasm2c runtime for boards without an OS: one static linear memory, one
 * static function table, traps delivered by longjmp to the innermost call the
 * engine made (engine/engine_wasm2c.c). No malloc, no signals, no mmap. */
#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "wasm-rt.h"

#ifndef MS_RAM_FROM_LINKER
/* The mask scheme may read up to 7 bytes past the last index: guard them. */
uint8_t ms_linear_memory[MS_MEM_BYTES + MS_MEM_GUARD_BYTES] __attribute__((aligned(8)));
#endif

static wasm_rt_funcref_t table_elements[MS_MAX_TABLE_ELEMENTS];
static int memory_taken;
static int table_taken;
static int initialized;
static WASM_RT_UNWIND_TARGET* unwind_target;
static wasm_rt_trap_t last_trap;

uint32_t wasm_rt_call_stack_depth;

/* A signature is identified by its parameter and result types so that equal
 * signatures get equal ids, as call_indirect's type check needs. */
#define MS_MAX_SIG_TYPES 16u
typedef struct {
  uint32_t params, results;
  wasm_rt_type_t types[MS_MAX_SIG_TYPES];
} signature;
static signature signatures[MS_MAX_FUNC_TYPES];
static uint32_t signature_count;

void wasm_rt_init(void) { initialized = 1; }
bool wasm_rt_is_initialized(void) { return initialized != 0; }
void wasm_rt_free(void) { initialized = 0; }

void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) { unwind_target = target; }
WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { return unwind_target; }

wasm_rt_trap_t ms_last_trap(void) { return last_trap; }

void wasm_rt_trap(wasm_rt_trap_t code) {
  last_trap = code;
  wasm_rt_call_stack_depth = 0;
  if (unwind_target == NULL) {
    /* A trap outside any engine call is a firmware bug: stop here rather than
     * jump through a stale buffer. */
    for (;;) {
    }
  }
  longjmp(*unwind_target, (int)code);
}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
  }
  return "unknown trap";
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  signature s;
  memset(&s, 0, sizeof s);
  s.params = params;
  s.results = results;
  if (params + results > MS_MAX_SIG_TYPES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; i++) s.types[i] = (wasm_rt_type_t)va_arg(ap, int);
  va_end(ap);
  for (uint32_t i = 0; i < signature_count; i++)
    if (memcmp(&signatures[i], &s, sizeof s) == 0) return i;
  if (signature_count == MS_MAX_FUNC_TYPES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  signatures[signature_count] = s;
  return signature_count++;
}

/* The module's only memory is the static one, whatever the module declares
 * beyond its data (agent.wasm: one page, no maximum): the access macros of
 * memcheck.h bound every index by MS_MEM_BYTES, and the host tells the agent
 * that size (common/agent_main.c). */
void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  if (memory_taken || initial_pages > MS_MEM_PAGES || max_pages < MS_MEM_PAGES)
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  memory_taken = 1;
  memset(ms_linear_memory, 0, MS_MEM_BYTES);
  memory->data = ms_linear_memory;
  memory->pages = MS_MEM_PAGES;
  memory->max_pages = MS_MEM_PAGES;
  memory->size = MS_MEM_BYTES;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  (void)memory;
  return delta == 0 ? MS_MEM_PAGES : UINT32_MAX;
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory) {
  (void)memory;
  memory_taken = 0;
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements, uint32_t max_elements) {
  (void)max_elements;
  if (table_taken || elements > MS_MAX_TABLE_ELEMENTS) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  table_taken = 1;
  memset(table_elements, 0, sizeof table_elements);
  table->data = table_elements;
  table->size = elements;
  table->max_size = elements;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* table) {
  (void)table;
  table_taken = 0;
}

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* table, uint32_t delta, wasm_rt_funcref_t init) {
  (void)table;
  (void)init;
  return delta == 0 ? table->size : UINT32_MAX;
}
