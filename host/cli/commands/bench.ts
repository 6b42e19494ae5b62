// `microsplit bench <name>`: runs one of the benchmark harnesses in tools/bench
// (the same as `npm run bench:<name>`), passing the remaining arguments on.
import { Command, Argument } from 'commander';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BENCHES: Record<string, string> = {
  kernels: 'WASM kernels vs plain C vs the oracle, MAC/s',
  link: 'wire overhead and goodput over paced PTYs',
  plan: 'planner vs the optimum and the baselines, planner run time',
  firmware: 'instructions per MAC on the Cortex-M4 under QEMU',
  e2e: 'measured vs predicted makespan, speedups, latency under failure',
  virtual: 'virtual-time vs real-time latencies; 120 devices in virtual time',
};

export function register(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark: ' + Object.entries(BENCHES).map(([k, v]) => `${k} (${v})`).join('; '))
    .addArgument(new Argument('<name>', 'which benchmark').choices(Object.keys(BENCHES)))
    .argument('[args...]', 'passed on to the benchmark, e.g. --json')
    .allowUnknownOption()
    .action((name: string, args: string[]) => {
      // The benchmarks run build/*.wasm: build it first when its sources changed (as the npm scripts do).
      const built = spawnSync(process.execPath, [join(ROOT, 'tools', 'build-wasm.js')], { stdio: 'inherit' });
      if (built.status !== 0) {
        process.exitCode = built.status ?? 1;
        return;
      }
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const r = spawnSync(process.execPath, ['--import', tsx, join(ROOT, 'tools', 'bench', `${name}.ts`), ...args], { stdio: 'inherit' });
      process.exitCode = r.status ?? 1;
    });
}
