#!/bin/sh
# Writes the WebAssembly module $1 as a C array for engines that load module
# bytes (wasm3): kept in flash, parsed at boot (common/embedded_module.c).
set -eu
printf '/* Generated from %s by tools/embed-wasm.sh; do not edit. */\n#include <stdint.h>\n' "$(basename "$1")"
printf 'const uint8_t ms_agent_wasm[] __attribute__((aligned(4))) = {\n'
od -An -v -tu1 "$1" | sed 's/^ *//; s/ *$//; s/  */, /g; s/$/,/'
printf '};\nconst uint32_t ms_agent_wasm_len = sizeof ms_agent_wasm;\n'
