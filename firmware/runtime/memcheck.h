/* How every linear-memory access of the wasm2c output is checked. The build
 * replaces wasm2c's own block of access macros by an include of this file
 * (tools/w2c-memcheck.sh), so one scheme applies to the whole module:
 *
 *   MS_MEMCHECK_WASM2C  wabt 1.0.32's check, 64-bit arithmetic: exact, traps.
 *   MS_MEMCHECK_CHECK32 the 32-bit index against a constant bound: traps, and
 *                       never leaves memory; an address+offset that wraps past
 *                       4 GiB is taken modulo 2^32 instead of trapping.
 *   MS_MEMCHECK_MASK    the index masked to the power-of-two memory: never
 *                       leaves memory, but an out-of-bounds access silently
 *                       wraps instead of trapping.
 *
 * The memory has one fixed size (asserted at allocation), so the bound is a
 * compile-time constant and the data pointer is a static symbol. */
#ifndef MS_MEMCHECK_H
#define MS_MEMCHECK_H

#include "config.h"

#define MS_MEMCHECK_WASM2C 1
#define MS_MEMCHECK_CHECK32 2
#define MS_MEMCHECK_MASK 3

#ifndef MS_MEMCHECK
#error "MS_MEMCHECK must name a scheme (1 wasm2c, 2 check32, 3 mask)"
#endif

extern uint8_t ms_linear_memory[];

#if MS_MEMCHECK == MS_MEMCHECK_WASM2C
#define MS_INDEX(addr, len)                                   \
  (UNLIKELY((addr) + (uint64_t)(len) > MS_MEM_BYTES) ? (TRAP(OOB), 0u) \
                                                     : (uint32_t)(addr))
#elif MS_MEMCHECK == MS_MEMCHECK_CHECK32
#define MS_INDEX(addr, len)                                          \
  (UNLIKELY((uint32_t)(addr) > MS_MEM_BYTES - (uint32_t)(len)) ? (TRAP(OOB), 0u) \
                                                               : (uint32_t)(addr))
#elif MS_MEMCHECK == MS_MEMCHECK_MASK
#if (MS_MEM_BYTES & (MS_MEM_BYTES - 1u)) != 0
#error "the masking scheme needs a power-of-two memory"
#endif
#define MS_INDEX(addr, len) ((uint32_t)(addr) & (MS_MEM_BYTES - 1u))
#else
#error "unknown MS_MEMCHECK scheme"
#endif

/* Bulk operations (memory.fill/copy/init) and data segments always trap when
 * out of bounds, whatever the scheme: they are rare and never in a hot loop. */
#define RANGE_CHECK(mem, offset, len)                     \
  if (UNLIKELY((offset) + (uint64_t)(len) > (mem)->size)) \
    TRAP(OOB);

#define LOAD_DATA(m, o, i, s)                 \
  do {                                        \
    RANGE_CHECK((&m), o, s);                  \
    memcpy(&((m).data[o]), i, s);             \
  } while (0)

#define DEFINE_LOAD(name, t1, t2, t3)                                  \
  static inline t3 name(wasm_rt_memory_t* mem, u64 addr) {             \
    (void)mem;                                                         \
    t1 result;                                                         \
    memcpy(&result, &ms_linear_memory[MS_INDEX(addr, sizeof(t1))],     \
           sizeof(t1));                                                \
    return (t3)(t2)result;                                             \
  }

#define DEFINE_STORE(name, t1, t2)                                     \
  static inline void name(wasm_rt_memory_t* mem, u64 addr, t2 value) { \
    (void)mem;                                                         \
    t1 wrapped = (t1)value;                                            \
    memcpy(&ms_linear_memory[MS_INDEX(addr, sizeof(t1))], &wrapped,    \
           sizeof(t1));                                                \
  }

#endif
