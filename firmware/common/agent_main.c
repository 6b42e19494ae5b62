/* The device: hosts agent.wasm and moves bytes between the link and the
 * agent (docs/protocol.md section 6). Boots linearly; every stage checked and
 * a failing one reported over the link as a text line. */
#include "abi.generated.h"
#include "board.h"
#include "engine.h"
#include "trap_frame.h"

typedef struct {
  ms_export init, rx_buffer, feed, poll, provision_key;
  uint32_t rx;      /* linear-memory address of the agent's receive buffer */
  uint32_t session; /* this start's session; 0: the agent is not keyed */
} agent;

/* Starts of the agent since boot (the first, and one per restart after a
 * trap): the low half of its session. */
static uint32_t starts;

static int report(const char* stage, ms_engine_status st) {
  char buf[21];
  board_puts("microsplit: boot failed at ");
  board_puts(stage);
  board_puts(" (status ");
  board_puts(ms_utoa((uint64_t)st, 10, buf));
  board_puts("): ");
  board_puts(ms_engine_detail());
  board_puts("\n");
  return 2;
}

/* Keys the agent from the board's key region, in a session no earlier start
 * under this key had (key_region.h): the boot count, advanced at the first
 * start after boot, then the starts since boot. */
static int provision(agent* a) {
  a->session = 0;
  ms_key_region* region = board_key_region();
  if (starts++ == 0 && region && region->magic == MS_KEY_REGION_MAGIC) region->boots++;
  if (!region || region->magic != MS_KEY_REGION_MAGIC) return 0;
  if (region->length < 1 || region->length > MS_KEY_MAX_BYTES || region->boots > 0xffffu || starts > 0xffffu) {
    board_puts("microsplit: key region unusable (key length 1..64, at most 65535 boots and 65535 restarts per boot): provision a new key\n");
    return 2;
  }
  ms_engine_status st;
  if ((st = ms_engine_find("provision_key", 2, &a->provision_key)) != MS_ENGINE_OK) return report("find provision_key", st);
  uint32_t size;
  uint8_t* mem = ms_engine_memory(&size);
  for (uint32_t i = 0; i < region->length; i++) mem[a->rx + i] = region->key[i];
  uint32_t args[2] = {region->length, region->boots << 16 | starts}, rc = 0;
  if ((st = ms_engine_call(&a->provision_key, args, &rc)) != MS_ENGINE_OK) return report("provision_key", st);
  if (rc != 0) {
    board_puts("microsplit: agent refused the key\n");
    return 2;
  }
  a->session = args[1];
  return 0;
}

/* Loads the module and runs init; returns 0 or a boot failure. */
static int start(agent* a) {
  ms_engine_status st;
  uint32_t module_len = 0;
  const uint8_t* module = board_agent_module(&module_len);
  if ((st = ms_engine_load(module, module_len)) != MS_ENGINE_OK) return report("load", st);
  if ((st = ms_engine_find("init", 3, &a->init)) != MS_ENGINE_OK) return report("find init", st);
  if ((st = ms_engine_find("rx_buffer", 0, &a->rx_buffer)) != MS_ENGINE_OK) return report("find rx_buffer", st);
  if ((st = ms_engine_find("feed", 1, &a->feed)) != MS_ENGINE_OK) return report("find feed", st);
  if ((st = ms_engine_find("poll", 0, &a->poll)) != MS_ENGINE_OK) return report("find poll", st);
  /* The agent learns its memory from here: the bytes the engine bounds its
   * accesses by (the board's RAM left to it), or fewer if the board says so. */
  uint32_t size, rc = 0;
  char buf[21];
  ms_engine_memory(&size);
  uint32_t memory = board_agent_memory();
  if (memory > size) {
    board_puts("microsplit: the board asks for ");
    board_puts(ms_utoa(memory, 10, buf));
    board_puts(" bytes of agent memory; the image has ");
    board_puts(ms_utoa(size, 10, buf));
    board_puts("\n");
    return 2;
  }
  uint32_t args[3] = {memory ? memory : size, MS_RX_WINDOW, ms_engine_id};
  if ((st = ms_engine_call(&a->init, args, &rc)) != MS_ENGINE_OK) return report("init", st);
  if (rc != 0) {
    board_puts("microsplit: agent init refused memory ");
    board_puts(ms_utoa(args[0], 10, buf));
    board_puts(" with code ");
    board_puts(ms_utoa(rc, 10, buf));
    board_puts("\n");
    return 2;
  }
  if ((st = ms_engine_call(&a->rx_buffer, 0, &a->rx)) != MS_ENGINE_OK) return report("rx_buffer", st);
  if (a->rx > size || MS_RX_WINDOW > size - a->rx) {
    board_puts("microsplit: agent receive buffer lies outside linear memory\n");
    return 2;
  }
  return provision(a);
}

/* One step of the loop: feed what arrived, then one unit of pending work. */
static ms_engine_status step(agent* a, int* busy) {
  uint32_t size, rc = 0;
  uint8_t* mem = ms_engine_memory(&size);
  uint32_t n = board_read(mem + a->rx, MS_RX_WINDOW);
  ms_engine_status st;
  if (n > 0 && (st = ms_engine_call(&a->feed, &n, &rc)) != MS_ENGINE_OK) return st;
  if ((st = ms_engine_call(&a->poll, 0, &rc)) != MS_ENGINE_OK) return st;
  *busy = n > 0 || rc != 0;
  return MS_ENGINE_OK;
}

/* Has the restarted, keyed agent tag the trap message of the start in
 * session `trapped` (its export tag_trap); 0 on success. */
static int tag_trap(agent* a, uint8_t* msg, uint32_t n, uint32_t trapped) {
  ms_export fn;
  uint32_t size, rc = 0, args[2] = {n, trapped};
  uint8_t* mem = ms_engine_memory(&size);
  /* The agent appends its 8-byte binding in the receive buffer. */
  if (n + 8u > MS_RX_WINDOW || ms_engine_find("tag_trap", 2, &fn) != MS_ENGINE_OK) return 1;
  for (uint32_t i = 0; i < n; i++) mem[a->rx + i] = msg[i];
  if (ms_engine_call(&fn, args, &rc) != MS_ENGINE_OK || rc != 0) return 1;
  for (uint32_t i = n - MS_TAG_BYTES; i < n; i++) msg[i] = mem[a->rx + i];
  return 0;
}

/* A trap leaves the agent's state undefined: restart it, then report the
 * trap. A keyed board's report is tagged for the session that trapped (the
 * one the gateway knows) by the restarted agent; if that agent cannot tag it,
 * nothing is sent, as an untagged report would be refused as forged. */
static int restart_after_trap(agent* a) {
  uint8_t msg[MS_TRAP_MESSAGE_MAX];
  uint32_t trapped = a->session;
  uint32_t n = ms_trap_message(ms_engine_detail(), trapped != 0, msg);
  int failed = start(a);
  if (trapped == 0 || (!failed && tag_trap(a, msg, n, trapped) == 0)) ms_send_trap_frame(msg, n);
  else board_puts("microsplit: the restarted agent could not tag the trap report; none sent\n");
  return failed;
}

int main(void) {
  board_init();
  agent a;
  int failed = start(&a);
  if (failed) return failed;
  for (;;) {
    int busy = 0;
    if (step(&a, &busy) != MS_ENGINE_OK) {
      if ((failed = restart_after_trap(&a)) != 0) return failed;
      continue;
    }
    if (!busy) board_wait_for_input();
  }
}
