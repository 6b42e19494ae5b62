#!/bin/sh
# Replaces wasm2c 1.0.32's block of memory-access macros (from RANGE_CHECK up
# to the first DEFINE_LOAD use) by an include of runtime/memcheck.h, which
# defines them for the scheme the board chose. Fails loudly if the generated
# code does not have the expected shape (another wabt version).
# usage: w2c-memcheck.sh IN.c OUT.c
set -eu
in=$1 out=$2
grep -q '^#define RANGE_CHECK(mem, offset, len)' "$in" || { echo "w2c-memcheck: no RANGE_CHECK in $in (wabt version?)" >&2; exit 1; }
grep -q '^DEFINE_LOAD(i32_load, u32, u32, u32)' "$in" || { echo "w2c-memcheck: no DEFINE_LOAD(i32_load in $in (wabt version?)" >&2; exit 1; }
awk '
  /^#define RANGE_CHECK\(mem, offset, len\)/ { skipping = 1; print "#include \"memcheck.h\""; next }
  /^DEFINE_LOAD\(i32_load, u32, u32, u32\)/ { skipping = 0 }
  !skipping { print }
' "$in" > "$out.tmp"
if grep -q 'MEMCHECK(\|wasm_asm(' "$out.tmp"; then echo "w2c-memcheck: $in uses a macro this script removed" >&2; rm -f "$out.tmp"; exit 1; fi
mv "$out.tmp" "$out"
