# PlatformIO pre-build step: embeds ../../../build/agent-wasm3.wasm (the agent
# built for size, as on the other wasm3 boards) as a C array (src/agent_wasm.c),
# since the interpreter loads the module from bytes.
Import("env")  # noqa: F821 (provided by PlatformIO)
import os

here = env.subst("$PROJECT_DIR")  # noqa: F821
wasm = os.path.join(here, "..", "..", "..", "build", "agent-wasm3.wasm")
if not os.path.exists(wasm):
    raise SystemExit("esp32: build/agent-wasm3.wasm is missing: run 'npm run build:wasm' first")
data = open(wasm, "rb").read()
lines = ",\n".join(", ".join(str(b) for b in data[i:i + 16]) for i in range(0, len(data), 16))
out = os.path.join(here, "src", "agent_wasm.c")
with open(out, "w") as f:
    f.write("/* Generated from build/agent-wasm3.wasm by embed_wasm.py; do not edit. */\n#include <stdint.h>\n")
    f.write("const uint8_t ms_agent_wasm[] = {\n%s\n};\nconst uint32_t ms_agent_wasm_len = %d;\n" % (lines, len(data)))
