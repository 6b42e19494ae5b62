/* Sizes fixed in one place for every board. The agent's linear memory is
 * static (no malloc) and must match the module's declared memory exactly:
 * asconfig.json fixes it at 16 pages (initialMemory == maximumMemory). */
#ifndef MS_CONFIG_H
#define MS_CONFIG_H

#define MS_WASM_PAGE_BYTES 65536u
#ifndef MS_MEM_PAGES
#define MS_MEM_PAGES 16u
#endif
#define MS_MEM_BYTES (MS_MEM_PAGES * MS_WASM_PAGE_BYTES)
/* The masking scheme lets an 8-byte access start at the last byte. */
#define MS_MEM_GUARD_BYTES 16u

/* Distinct function signatures the module may register (call_indirect). */
#define MS_MAX_FUNC_TYPES 64u
/* Entries of the module's function table, allocated statically. */
#define MS_MAX_TABLE_ELEMENTS 256u

#endif
