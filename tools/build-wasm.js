#!/usr/bin/env node
// Builds every WebAssembly target of asconfig.json (kernels.wasm, agent.wasm).
// Plain JS so it runs before anything else is compiled.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8')).targets;
mkdirSync(join(root, 'build'), { recursive: true });
const asc = join(root, 'node_modules', '.bin', 'asc');
for (const [target, { entries }] of Object.entries(targets)) {
  // asc reads `entries` only from the top level of asconfig.json, not from a target: pass them.
  const r = spawnSync(asc, [...entries, '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-wasm: target ${target} failed`);
    process.exit(r.status ?? 1);
  }
}
