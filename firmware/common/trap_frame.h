/* When the module traps, its state cannot be trusted to answer, so the board
 * itself sends one ERROR frame (docs/protocol.md: version, CBOR map, CRC-32,
 * COBS) and restarts the agent. Its code is TRAP (MS_E_TRAP of
 * abi.generated.h), which the agent never sends: the agent did not produce it. */
#ifndef MS_TRAP_FRAME_H
#define MS_TRAP_FRAME_H

#include <stdint.h>

/* Sends ERROR {seq 0, code MS_E_TRAP, text "agent trapped: <detail>..."}. */
void ms_send_trap_error(const char* detail);

#endif
