/* The agent's imports under the names wasm2c 1.0.32 gives them (module env). */
#include "agent_imports.h"
#include "wasm-rt.h"

struct Z_env_instance_t;

void Z_envZ_link_write(struct Z_env_instance_t* env, uint32_t ptr, uint32_t len) {
  (void)env;
  if (!ms_agent_link_write(ptr, len)) wasm_rt_trap(WASM_RT_TRAP_OOB);
}

void Z_envZ_log(struct Z_env_instance_t* env, uint32_t ptr, uint32_t len) {
  (void)env;
  if (!ms_agent_log(ptr, len)) wasm_rt_trap(WASM_RT_TRAP_OOB);
}

uint64_t Z_envZ_clock_us(struct Z_env_instance_t* env) {
  (void)env;
  return ms_agent_clock_us();
}
