#!/usr/bin/env node
// Builds every WebAssembly target of asconfig.json (kernels.wasm, agent.wasm,
// and agent-wasm3.wasm: the agent built for size for wasm3, which keeps compiled code in RAM),
// skipping a target whose outputs are newer than every source it may depend
// on (assembly/, asconfig.json, the compiler's version, this script); --force
// builds anyway. Plain JS so it runs before anything else is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const targets = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8')).targets;
mkdirSync(join(root, 'build'), { recursive: true });
const asc = join(root, 'node_modules', '.bin', 'asc');
if (!existsSync(asc)) {
  console.error('build-wasm: the AssemblyScript compiler is not installed: run npm ci');
  process.exit(1);
}

/** Every file and directory under `dir`, with `dir` (a directory's time changes when a file is removed). */
function pathsUnder(dir) {
  return [dir, ...readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? pathsUnder(join(dir, e.name)) : [join(dir, e.name)]))];
}

const mtime = (file) => statSync(file).mtimeMs;
const sources = [
  ...pathsUnder(join(root, 'assembly')),
  join(root, 'asconfig.json'),
  join(root, 'node_modules', 'assemblyscript', 'package.json'),
  fileURLToPath(import.meta.url),
];
const newestSource = Math.max(...sources.map(mtime));

// binaryen prints this when converging stopped before a fixed point; it is not an error and says
// nothing a user can act on, so it is left out of the build's output.
const NOISE = /^Last converge was suboptimal\.$/;
const withoutNoise = (text) =>
  text
    .split('\n')
    .filter((l) => !NOISE.test(l.trim()))
    .join('\n');

const built = [];
for (const [target, { entries, outFile, textFile }] of Object.entries(targets)) {
  const outputs = [outFile, textFile].filter(Boolean).map((f) => join(root, f));
  if (!force && outputs.every((f) => existsSync(f) && mtime(f) > newestSource)) continue;
  // asc reads `entries` only from the top level of asconfig.json, not from a target: pass them.
  const r = spawnSync(asc, [...entries, '--config', 'asconfig.json', '--target', target], { cwd: root, encoding: 'utf8' });
  process.stdout.write(withoutNoise(r.stdout ?? ''));
  process.stderr.write(withoutNoise(r.stderr ?? ''));
  if (r.status !== 0) {
    console.error(`build-wasm: target ${target} failed${r.error ? `: ${r.error.message}` : ''}`);
    process.exit(r.status ?? 1);
  }
  built.push(outFile);
}
console.error(built.length ? `build-wasm: built ${built.join(', ')}` : 'build-wasm: build/*.wasm up to date');
