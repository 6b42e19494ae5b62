/* The agent's imports bound into wasm3 (module env, docs/protocol.md section 6). */
#include "agent_imports.h"
#include "wasm3.h"

m3ApiRawFunction(link_write) {
  m3ApiGetArg(uint32_t, ptr);
  m3ApiGetArg(uint32_t, len);
  if (!ms_agent_link_write(ptr, len)) m3ApiTrap(m3Err_trapOutOfBoundsMemoryAccess);
  m3ApiSuccess();
}

m3ApiRawFunction(log_line) {
  m3ApiGetArg(uint32_t, ptr);
  m3ApiGetArg(uint32_t, len);
  if (!ms_agent_log(ptr, len)) m3ApiTrap(m3Err_trapOutOfBoundsMemoryAccess);
  m3ApiSuccess();
}

m3ApiRawFunction(clock_us) {
  m3ApiReturnType(uint64_t);
  m3ApiReturn(ms_agent_clock_us());
}

/* A module need not import all three (AssemblyScript drops unused imports):
 * a lookup failure means "not imported", not an error. */
static M3Result link(IM3Module module, const char* name, const char* sig, M3RawCall fn) {
  M3Result r = m3_LinkRawFunction(module, "env", name, sig, fn);
  return r == m3Err_functionLookupFailed ? m3Err_none : r;
}

M3Result ms_wasm3_link_imports(IM3Module module) {
  M3Result r;
  if ((r = link(module, "link_write", "v(ii)", &link_write))) return r;
  if ((r = link(module, "log", "v(ii)", &log_line))) return r;
  return link(module, "clock_us", "I()", &clock_us);
}
