#include "trap_frame.h"

#include <string.h>

#include "abi.generated.h"
#include "board.h"

#define MAX_TEXT 200u

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
  uint8_t out[MAX_TEXT + 32];
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

void ms_send_trap_error(const char* detail) {
  static const char prefix[] = "agent trapped: ";
  static const char suffix[] = "; the board restarted its agent, every fragment is gone";
  char text[MAX_TEXT];
  uint32_t t = 0;
  for (const char* parts[3] = {prefix, detail, suffix}, **s = parts; s < parts + 3; s++)
    for (const char* c = *s; *c != 0 && t < sizeof text; c++) text[t++] = *c;
  /* Stays under 254 payload bytes so that COBS needs one code byte per zero. */
  if (t > 200u) t = 200u;
  uint8_t msg[MAX_TEXT + 16];
  uint32_t n = 0;
  /* CBOR by hand: every key and small value below is < 24, so each is one byte. */
  msg[n++] = MS_PROTOCOL_VERSION;
  msg[n++] = 0xA0 | 4;                               /* map of 4 */
  msg[n++] = MS_K_TYPE, msg[n++] = MS_T_ERROR;        /* type (18 = 0x12 < 24) */
  msg[n++] = MS_K_SEQ, msg[n++] = 0x00;               /* seq 0 */
  msg[n++] = MS_R_ERROR_CODE, msg[n++] = MS_E_TRAP;   /* code */
  msg[n++] = MS_R_ERROR_TEXT;                         /* text: */
  msg[n++] = 0x78, msg[n++] = (uint8_t)t;             /* text string, 1-byte length */
  memcpy(msg + n, text, t);
  n += t;
  uint32_t crc = crc32(msg, n);
  for (int i = 0; i < 4; i++) msg[n++] = (uint8_t)(crc >> (8 * i));
  write_cobs_frame(msg, n);
}
