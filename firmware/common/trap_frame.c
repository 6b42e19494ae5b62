#include "trap_frame.h"

#include <string.h>

#include "board.h"

#define PROTOCOL_VERSION 1u
#define MSG_ERROR 18u
#define MAX_TEXT 200u

static uint32_t crc32(const uint8_t* p, uint32_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint32_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
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
  out[o++] = 0;
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
  msg[n++] = PROTOCOL_VERSION;
  msg[n++] = 0xA4;                /* map of 4 */
  msg[n++] = 0x00, msg[n++] = MSG_ERROR;  /* 0: type */
  msg[n++] = 0x01, msg[n++] = 0x00;       /* 1: seq 0 */
  msg[n++] = 0x02, msg[n++] = MS_ERROR_TRAP; /* 2: code */
  msg[n++] = 0x03;                        /* 3: text */
  msg[n++] = 0x78, msg[n++] = (uint8_t)t;
  memcpy(msg + n, text, t);
  n += t;
  uint32_t crc = crc32(msg, n);
  for (int i = 0; i < 4; i++) msg[n++] = (uint8_t)(crc >> (8 * i));
  write_cobs_frame(msg, n);
}
