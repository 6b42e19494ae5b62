/* kernels.wasm imports nothing: its job images bind no host functions. */
#include "wasm3.h"

M3Result ms_wasm3_link_imports(IM3Module module) {
  (void)module;
  return m3Err_none;
}
