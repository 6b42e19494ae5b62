/* Number formatting without printf: boards print over the UART before (and
 * instead of) any C library I/O. */
#include "board.h"

char* ms_utoa(uint64_t v, unsigned base, char* buf) {
  char tmp[21];
  int n = 0;
  do {
    unsigned d = (unsigned)(v % base);
    tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    v /= base;
  } while (v != 0);
  for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = 0;
  return buf;
}

void board_puts(const char* s) {
  uint32_t n = 0;
  while (s[n] != 0) n++;
  board_write((const uint8_t*)s, n);
}
