// A one-minute libFuzzer + AddressSanitizer run on the agent's frame input
// path in the firmware's linux build (tools/fuzz/libfuzzer/agent_fuzz.c): no
// trap, no out-of-bounds access, no arena above its budget, no leak. The
// longer run is `npm run fuzz:libfuzzer`.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { missingQemuToolchain } from '../host/sim/qemu.ts';
import { toolGate } from './tool-gate.ts';
import { runLibFuzzer } from '../tools/fuzz/libfuzzer/run.ts';

function missingFuzzToolchain(): string | null {
  const base = missingQemuToolchain();
  if (base) return base;
  const probe = spawnSync('sh', ['-c', 'echo "int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}" | clang -x c -fsanitize=fuzzer,address -o /dev/null -'], { encoding: 'utf8' });
  return probe.status === 0 ? null : 'clang cannot link -fsanitize=fuzzer,address (Debian packages clang and libclang-rt-14-dev)';
}

const fuzz = toolGate(missingFuzzToolchain());

describe.skipIf(fuzz.skip)(`libFuzzer on the agent's frame input${fuzz.note}`, () => {
  beforeAll(() => fuzz.check());
  it('finds nothing in a minute', async () => {
    const r = await runLibFuzzer(60);
    expect(r.ok, r.log.slice(-4000)).toBe(true);
    expect(r.runs).toBeGreaterThan(1000);
  }, 600_000);
});
