/* What every board provides to the board-independent mains
 * (common/agent_main.c, common/job_main.c). */
#ifndef MS_BOARD_H
#define MS_BOARD_H

#include <stdint.h>

#include "key_region.h"

/* Bytes the receive ring holds: the receive window the agent announces
 * (MS_RX_WINDOW) plus one frame's COBS/CRC/CBOR overhead. */
#ifndef MS_RX_WINDOW
#define MS_RX_WINDOW 1024u
#endif
#define MS_RX_RING_BYTES (MS_RX_WINDOW + 256u)

void board_init(void);
/* The device key region (key_region.h), writable for its boot count; NULL
 * where the board has none (the device is then not keyed). */
ms_key_region* board_key_region(void);
/* Bytes of linear memory the board gives the agent when told to give less
 * than the engine has (MPS2: a config word placed by QEMU's loader; linux:
 * --memory); 0: all of it. */
uint32_t board_agent_memory(void);
/* The module's bytes (agent.wasm; kernels.wasm in a job image) for engines
 * that load bytes (wasm3); NULL where the engine has it compiled in (wasm2c). */
const uint8_t* board_agent_module(uint32_t* len);
/* One diagnostic line from the agent; boards whose only link is the UART
 * drop it, so that it cannot mix with frames. */
void board_log(const uint8_t* p, uint32_t n);
/* Blocking write of n bytes to the link. */
void board_write(const uint8_t* p, uint32_t n);
/* Moves up to max received bytes into dst without blocking; returns the count. */
uint32_t board_read(uint8_t* dst, uint32_t max);
/* Sleeps until input may have arrived (an interrupt, or a short timeout). */
void board_wait_for_input(void);
uint64_t board_micros(void);
/* A count proportional to executed instructions (MPS2 under QEMU -icount:
 * SysTick ticks); 0 where the board has none. */
uint64_t board_ticks(void);
/* Instructions per tick of board_ticks() (0: no count on this board). */
uint32_t board_instructions_per_tick(void);
void board_exit(int code) __attribute__((noreturn));

/* Writes a NUL-terminated string to the link (boot and fault reports). */
void board_puts(const char* s);
/* Formats an unsigned number in the given base into buf (>= 21 bytes). */
char* ms_utoa(uint64_t v, unsigned base, char* buf);

#endif
