/* libFuzzer + AddressSanitizer harness on the frame input path of the linux
 * build: the same wasm2c output of agent.wasm, runtime, engine and imports
 * as firmware/boards/linux, fed arbitrary bytes as if they came off the link.
 * A trap, an import given a region outside linear memory, or an arena above
 * what its memory leaves it is a finding (abort); ASan catches any access outside the C
 * objects. An input starting with 'K' runs on a keyed agent (FUZZ_KEY, in
 * FUZZ_SESSION; make-corpus.ts signs and seals its keyed seeds with them),
 * so signed frames, and mutations that replay, reorder, cut or splice them,
 * reach past authentication. Build: make -C firmware fuzz. Run:
 * tools/fuzz/libfuzzer/run.ts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "engine.h"

/* The memory the harness gives the agent (less than the image has). */
#define AGENT_MEMORY (64u * 1024u)
/* Bounded work per input: a RUN of a fragment found by the fuzzer could
 * otherwise keep the agent busy for long. */
#define MAX_POLLS 100000

#define KEYED_MARK 'K'
#define FUZZ_SESSION 0x00010001u
static const uint8_t FUZZ_KEY[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static ms_export init_fn, rx_buffer_fn, feed_fn, poll_fn, used_fn, overhead_fn, provision_fn;
static uint64_t fake_clock;

/* The board seen by the agent's imports: output is dropped, time is fake. */
void board_write(const uint8_t* p, uint32_t n) {
  (void)p;
  (void)n;
}
void board_log(const uint8_t* p, uint32_t n) {
  (void)p;
  (void)n;
}
uint64_t board_micros(void) { return fake_clock += 10; }

static void check(ms_engine_status st) {
  if (st != MS_ENGINE_OK) abort(); /* a trap or a broken stage is a finding */
}

static uint32_t call(const ms_export* fn, const uint32_t* args) {
  uint32_t r = 0;
  check(ms_engine_call(fn, args, &r));
  return r;
}

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  check(ms_engine_load(NULL, 0));
  check(ms_engine_find("init", 3, &init_fn));
  check(ms_engine_find("rx_buffer", 0, &rx_buffer_fn));
  check(ms_engine_find("feed", 1, &feed_fn));
  check(ms_engine_find("poll", 0, &poll_fn));
  check(ms_engine_find("arena_used", 0, &used_fn));
  check(ms_engine_find("agent_overhead", 0, &overhead_fn));
  check(ms_engine_find("provision_key", 2, &provision_fn));
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  /* A fresh agent per input, so every finding reproduces from its input alone. */
  check(ms_engine_load(NULL, 0));
  uint32_t init_args[3] = {AGENT_MEMORY, MS_RX_WINDOW, ms_engine_id};
  if (call(&init_fn, init_args) != 0) abort();
  uint32_t arena = AGENT_MEMORY - call(&overhead_fn, NULL);
  uint32_t rx = call(&rx_buffer_fn, NULL);
  uint32_t mem_size;
  uint8_t* mem = ms_engine_memory(&mem_size);
  if (rx > mem_size || MS_RX_WINDOW > mem_size - rx) abort();
  if (size > 0 && data[0] == KEYED_MARK) {
    memcpy(mem + rx, FUZZ_KEY, sizeof FUZZ_KEY);
    uint32_t key_args[2] = {sizeof FUZZ_KEY, FUZZ_SESSION};
    if (call(&provision_fn, key_args) != 0) abort();
    data++;
    size--;
  }
  while (size > 0) {
    uint32_t n = size < MS_RX_WINDOW ? (uint32_t)size : MS_RX_WINDOW;
    memcpy(mem + rx, data, n);
    call(&feed_fn, &n);
    for (int i = 0; i < MAX_POLLS && call(&poll_fn, NULL) != 0; i++) {
    }
    if (call(&used_fn, NULL) > arena) abort();
    data += n;
    size -= n;
  }
  return 0;
}
