#!/usr/bin/env node
// Makes `npm run demo` and `npm test` work on a fresh clone: installs exactly the
// locked npm dependencies (npm ci) when they are missing. Plain JS, no dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.error('microsplit: installing the locked npm dependencies (npm ci), once');
  const status = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' }).status;
  if (status !== 0) {
    // npm ci refuses when package.json and package-lock.json disagree; rewriting the
    // lock here would hide that and leave the clone dirty, so say it and stop.
    console.error('microsplit: npm ci failed. If it says package.json and package-lock.json are out of sync, ' +
      'the committed lock is stale: run `npm install` once, review and commit package-lock.json.');
    process.exit(1);
  }
}
