#!/usr/bin/env node
// Makes `npm run demo` and `npm test` work on a fresh clone: installs the
// locked npm dependencies when they are missing. Plain JS, no dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.error('microsplit: installing npm dependencies, once');
  // npm ci first (exactly the lock); where the registry lacks a locked platform-specific
  // optional package, npm ci refuses and npm install takes the same versions without it.
  const install = (cmd, stdio) => spawnSync('npm', [cmd, '--no-audit', '--no-fund'], { cwd: root, stdio }).status;
  if (install('ci', 'ignore') !== 0 && install('install', 'inherit') !== 0) process.exit(1);
}
