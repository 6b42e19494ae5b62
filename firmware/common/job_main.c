/* Runs one job blob on the kernels module (see job.h) and prints the result. */
#include <string.h>

#include "board.h"
#include "engine.h"
#include "job.h"

static uint32_t word(const uint8_t* p, uint32_t i) {
  uint32_t v;
  memcpy(&v, p + 4u * i, 4);
  return v;
}

static void put_num(const char* label, uint64_t v) {
  char buf[21];
  board_puts(label);
  board_puts(ms_utoa(v, 10, buf));
}

static int fail(const char* stage, ms_engine_status st) {
  put_num("job: ", (uint64_t)st);
  board_puts(" at ");
  board_puts(stage);
  board_puts(": ");
  board_puts(ms_engine_detail());
  board_puts("\n");
  return 2;
}

static void dump(const uint8_t* mem, uint32_t off, uint32_t len) {
  static const char hex[] = "0123456789abcdef";
  char pair[2];
  for (uint32_t i = 0; i < len; i++) {
    pair[0] = hex[mem[off + i] >> 4];
    pair[1] = hex[mem[off + i] & 15u];
    board_write((const uint8_t*)pair, 2);
  }
}

int main(void) {
  board_init();
  uint32_t blob_len = 0;
  const uint8_t* blob = board_job_blob(&blob_len);
  if (blob == NULL || blob_len < 16 || word(blob, 0) != MS_JOB_MAGIC) {
    board_puts("job: no job blob (magic MSJ1) was given\n");
    return 1;
  }
  uint32_t dest = word(blob, 1), payload = word(blob, 2), steps = word(blob, 3);
  uint32_t header = 16u + 16u * steps;
  uint32_t module_len = 0;
  const uint8_t* module = board_agent_module(&module_len);
  ms_engine_status st = ms_engine_load(module, module_len);
  if (st != MS_ENGINE_OK) return fail("load", st);
  ms_export prepare, run;
  if ((st = ms_engine_find("prepareRecord", 1, &prepare)) != MS_ENGINE_OK) return fail("find prepareRecord", st);
  if ((st = ms_engine_find("runFragment", 2, &run)) != MS_ENGINE_OK) return fail("find runFragment", st);
  uint32_t mem_size;
  uint8_t* mem = ms_engine_memory(&mem_size);
  if (header > blob_len || payload > blob_len - header || dest > mem_size || payload > mem_size - dest) {
    board_puts("job: blob sizes do not fit the blob or linear memory\n");
    return 1;
  }
  memcpy(mem + dest, blob + header, payload);
  for (uint32_t i = 0; i < steps; i++) {
    const uint8_t* s = blob + 16u + 16u * i;
    uint32_t kind = word(s, 0), a = word(s, 1), b = word(s, 2);
    uint32_t args[2] = {a, b};
    uint32_t rc = 0;
    uint64_t t0 = board_ticks();
    if (kind == MS_STEP_PREPARE) {
      st = ms_engine_call(&prepare, args, &rc);
    } else if (kind == MS_STEP_RUN) {
      st = ms_engine_call(&run, args, &rc);
    } else if (kind == MS_STEP_PLAIN) {
      rc = (uint32_t)ms_plain_run(mem, a, b);
    } else if (kind == MS_STEP_DUMP) {
      if (a > mem_size || b > mem_size - a) {
        board_puts("job: dump outside linear memory\n");
        return 1;
      }
      put_num("dump ", i);
      board_puts(" ");
      dump(mem, a, b);
      board_puts("\n");
      continue;
    } else {
      put_num("job: unknown step kind ", kind);
      board_puts("\n");
      return 1;
    }
    uint64_t ticks = board_ticks() - t0;
    if (st != MS_ENGINE_OK) {
      put_num("step ", i);
      board_puts(" trap ");
      board_puts(ms_engine_detail());
      board_puts("\n");
      continue;
    }
    put_num("step ", i);
    put_num(" rc=", rc);
    put_num(" ticks=", ticks);
    board_puts("\n");
  }
  put_num("done ipt=", board_instructions_per_tick());
  board_puts("\n");
  return 0;
}
