#include "trap_frame.h"

#include <string.h>

#include "abi.generated.h"
#include "board.h"

#define MAX_TEXT 200u
/* Fields before the text (11 bytes), the text, the tag entry: within the
 * message buffer, and with the CRC under the 254 bytes of one COBS block. */
_Static_assert(11u + MAX_TEXT + MS_TRAP_TAG_ENTRY <= MS_TRAP_MESSAGE_MAX && MS_TRAP_MESSAGE_MAX + 4u < 254u, "trap frame too long");
_Static_assert(MS_TRAP_TAG_ENTRY == 3u + MS_TAG_BYTES, "tag entry: key, byte-string head, tag");

/* The board's only CRC-32 (spec/abi.json's parameters); bitwise, since it
 * runs once per trap. */
static uint32_t crc32(const uint8_t* p, uint32_t n) {
  uint32_t c = MS_CRC32_INIT;
  for (uint32_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c & 1u) ? MS_CRC32_POLY ^ (c >> 1) : c >> 1;
  }
  return c ^ MS_CRC32_XOROUT;
}

/* COBS-encodes n (< 254) bytes and writes them with the 0x00 delimiter. */
static void write_cobs_frame(const uint8_t* p, uint32_t n) {
  uint8_t out[MS_TRAP_MESSAGE_MAX + 8];
  uint32_t code_at = 0, o = 1;
  uint8_t code = 1;
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] != 0) {
      out[o++] = p[i];
      code++;
    } else {
      out[code_at] = code;
      code = 1;
      code_at = o++;
    }
  }
  out[code_at] = code;
  out[o++] = MS_DELIMITER;
  board_write(out, o);
}

uint32_t ms_trap_message(const char* detail, int tagged, uint8_t msg[MS_TRAP_MESSAGE_MAX]) {
  static const char prefix[] = "agent trapped: ";
  static const char suffix[] = "; the board restarted its agent, every fragment is gone";
  uint32_t n = 0;
  /* CBOR by hand: every key and small value below is < 24, so each is one byte. */
  msg[n++] = MS_PROTOCOL_VERSION;
  msg[n++] = 0xA0 | (tagged ? 5 : 4);                /* map of 4, 5 with the tag */
  msg[n++] = MS_K_TYPE, msg[n++] = MS_T_ERROR;        /* type (18 = 0x12 < 24) */
  msg[n++] = MS_K_SEQ, msg[n++] = 0x00;               /* seq 0 */
  msg[n++] = MS_R_ERROR_CODE, msg[n++] = MS_E_TRAP;   /* code */
  msg[n++] = MS_R_ERROR_TEXT;                         /* text: */
  msg[n++] = 0x78;                                    /* text string, 1-byte length */
  uint32_t at = n++, t = 0;
  for (const char* parts[3] = {prefix, detail, suffix}, **s = parts; s < parts + 3; s++)
    for (const char* c = *s; *c != 0 && t < MAX_TEXT; c++) msg[n + t++] = (uint8_t)*c;
  msg[at] = (uint8_t)t;
  n += t;
  if (tagged) {
    msg[n++] = MS_R_ERROR_TAG;                        /* tag: */
    msg[n++] = 0x58, msg[n++] = MS_TAG_BYTES;         /* byte string, 1-byte length */
    memset(msg + n, 0, MS_TAG_BYTES);
    n += MS_TAG_BYTES;
  }
  return n;
}

void ms_send_trap_frame(const uint8_t* msg, uint32_t n) {
  uint8_t frame[MS_TRAP_MESSAGE_MAX + 4];
  memcpy(frame, msg, n);
  uint32_t crc = crc32(frame, n);
  for (int i = 0; i < 4; i++) frame[n++] = (uint8_t)(crc >> (8 * i));
  write_cobs_frame(frame, n);
}
