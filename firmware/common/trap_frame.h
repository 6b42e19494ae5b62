/* When the module traps, its state cannot be trusted to answer, so the board
 * itself sends one ERROR frame (docs/protocol.md: version, CBOR map, CRC-32,
 * COBS) and restarts the agent. Its code is TRAP (MS_E_TRAP of
 * abi.generated.h), which the agent never sends for itself. On a keyed
 * device the message ends with a tag like every ERROR: the board has the
 * restarted agent write it (its export tag_trap), so the MAC has one
 * implementation and the gateway refuses a trap forged on the link. */
#ifndef MS_TRAP_FRAME_H
#define MS_TRAP_FRAME_H

#include <stdint.h>

/* Room for the message: its fields, 200 bytes of text, the tag entry. */
#define MS_TRAP_MESSAGE_MAX 248u
/* Bytes of the tag entry that ends a tagged message (key, byte-string head, 32 bytes). */
#define MS_TRAP_TAG_ENTRY 35u

/* Writes ERROR {seq 0, code MS_E_TRAP, text "agent trapped: <detail>..."} to
 * msg and returns its length; with `tagged`, the map's last entry is the tag,
 * 32 zero bytes for the agent to fill. */
uint32_t ms_trap_message(const char* detail, int tagged, uint8_t msg[MS_TRAP_MESSAGE_MAX]);

/* Sends the message as one frame (CRC-32, COBS, delimiter). */
void ms_send_trap_frame(const uint8_t* msg, uint32_t n);

#endif
