/* The agent's imports (docs/protocol.md section 6), once for every engine.
 * Each engine's glue (engine/agent_imports_*.c) binds them and turns a false
 * return into a trap. */
#ifndef MS_AGENT_IMPORTS_H
#define MS_AGENT_IMPORTS_H

#include <stdbool.h>
#include <stdint.h>

/* false when [ptr, ptr + len) is not inside linear memory. */
bool ms_agent_link_write(uint32_t ptr, uint32_t len);
bool ms_agent_log(uint32_t ptr, uint32_t len);
uint64_t ms_agent_clock_us(void);

#endif
