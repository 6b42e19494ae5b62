/* Counts the cost of the agent's own ChaCha20 and HMAC-SHA256 on a board:
 * the module is assembly/agent/probe/crypto.ts (the agent's crypto code,
 * nothing else), each primitive run over buffers of a few lengths and timed
 * in board ticks (tools/bench/crypto-m4.ts turns them into instructions per
 * byte). Prints "crypto <chacha|hmac> <bytes> ticks=<n>", then
 * "done ipt=<instructions per tick>". */
#include "board.h"
#include "engine.h"

static const uint32_t lengths[] = {1024, 16384};
#define MAX_LENGTH 16384u

static int fail(const char* stage) {
  board_puts("crypto: ");
  board_puts(stage);
  board_puts(": ");
  board_puts(ms_engine_detail());
  board_puts("\n");
  return 2;
}

static void put_line(const char* what, uint32_t bytes, uint64_t ticks) {
  char buf[21];
  board_puts("crypto ");
  board_puts(what);
  board_puts(" ");
  board_puts(ms_utoa(bytes, 10, buf));
  board_puts(" ticks=");
  board_puts(ms_utoa(ticks, 10, buf));
  board_puts("\n");
}

int main(void) {
  board_init();
  uint32_t module_len = 0, size = 0, base = 0;
  const uint8_t* module = board_agent_module(&module_len);
  ms_export scratch, chacha, hmac;
  if (ms_engine_load(module, module_len) != MS_ENGINE_OK) return fail("load");
  if (ms_engine_find("scratch", 0, &scratch) != MS_ENGINE_OK || ms_engine_find("chacha", 6, &chacha) != MS_ENGINE_OK ||
      ms_engine_find("hmac", 5, &hmac) != MS_ENGINE_OK)
    return fail("find scratch, chacha, hmac");
  if (ms_engine_call(&scratch, 0, &base) != MS_ENGINE_OK) return fail("scratch");
  uint8_t* mem = ms_engine_memory(&size);
  /* key (32 bytes), tag (32 bytes), data */
  uint32_t key = base, out = base + 32, data = base + 64;
  if (data > size || MAX_LENGTH > size - data) {
    board_puts("crypto: the module's memory cannot hold the buffers\n");
    return 1;
  }
  for (uint32_t i = 0; i < 64 + MAX_LENGTH; i++) mem[base + i] = (uint8_t)(i * 131u + 7u);
  for (uint32_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
    uint32_t n = lengths[i];
    uint32_t chacha_args[6] = {key, 1, 2, 3, data, n}, hmac_args[5] = {key, 32, data, n, out};
    uint64_t t0 = board_ticks();
    if (ms_engine_call(&chacha, chacha_args, 0) != MS_ENGINE_OK) return fail("chacha");
    put_line("chacha", n, board_ticks() - t0);
    t0 = board_ticks();
    if (ms_engine_call(&hmac, hmac_args, 0) != MS_ENGINE_OK) return fail("hmac");
    put_line("hmac", n, board_ticks() - t0);
  }
  char buf[21];
  board_puts("done ipt=");
  board_puts(ms_utoa(board_instructions_per_tick(), 10, buf));
  board_puts("\n");
  return 0;
}
