/* Sizes fixed in one place for every board. The linear memory is static
 * (no malloc), in one of two ways:
 *   - MS_RAM_FROM_LINKER (device images on a real chip's memory): every byte
 *     of RAM the image leaves, from the linker script (boards/cortex-m.ld,
 *     boards/riscv32/link.ld): ms_ram_free, and ms_ram_free_bytes, a symbol
 *     whose address is the count, so the bound stays a link-time constant;
 *   - otherwise MS_MEM_PAGES whole pages (linux, job images; kernels.wasm
 *     declares 16 pages). */
#ifndef MS_CONFIG_H
#define MS_CONFIG_H

#include <stdint.h>

#define MS_WASM_PAGE_BYTES 65536u
#ifdef MS_RAM_FROM_LINKER
extern uint8_t ms_ram_free[];
extern uint8_t ms_ram_free_bytes[];
#define MS_RAM_FREE_BYTES ((uint32_t)(uintptr_t)ms_ram_free_bytes)
#define ms_linear_memory ms_ram_free
#define MS_MEM_BYTES MS_RAM_FREE_BYTES
#define MS_MEM_PAGES ((MS_MEM_BYTES + MS_WASM_PAGE_BYTES - 1u) / MS_WASM_PAGE_BYTES)
#else
#ifndef MS_MEM_PAGES
#define MS_MEM_PAGES 16u
#endif
#define MS_MEM_BYTES (MS_MEM_PAGES * MS_WASM_PAGE_BYTES)
#endif
/* The masking scheme lets an 8-byte access start at the last byte. */
#define MS_MEM_GUARD_BYTES 16u

/* Distinct function signatures the module may register (call_indirect). */
#define MS_MAX_FUNC_TYPES 64u
/* Entries of the module's function table, allocated statically. */
#define MS_MAX_TABLE_ELEMENTS 256u

#endif
