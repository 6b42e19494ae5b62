/* When the module traps, its state cannot be trusted to answer, so the board
 * itself sends one ERROR frame (docs/protocol.md: version 1, CBOR map, CRC-32,
 * COBS) and restarts the agent. Code 15 (TRAP) is outside the protocol's
 * table of agent errors on purpose: the agent did not produce it. */
#ifndef MS_TRAP_FRAME_H
#define MS_TRAP_FRAME_H

#include <stdint.h>

#define MS_ERROR_TRAP 15u

/* Sends ERROR {seq 0, code MS_ERROR_TRAP, text "agent trapped: <detail>..."}. */
void ms_send_trap_error(const char* detail);

#endif
