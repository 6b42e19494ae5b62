#!/usr/bin/env node
// The README's Quick start as a new user meets it: a fresh clone of the
// committed HEAD, run with a PATH that holds only Node, npm and a shell's
// basic programs (no socat, QEMU, cross compilers, wabt, clang, Chromium, nor
// a C compiler or make), CI unset. Prints each command's wall time and the
// demo's line saying what carries the links. Plain JS, no dependencies.
//
//   npm run check:fresh                  # npm run demo, then npm test
//   npm run check:fresh -- --demo-only   # npm run demo only
//   npm run check:fresh -- --keep        # keep the clone and the logs
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
for (const a of args) if (a !== '--demo-only' && a !== '--keep') fail(`unknown option ${a} (known: --demo-only, --keep)`);

// What a fresh Debian with Node and npm has; anything else a Quick start command needs would be missing.
const PROGRAMS = [
  'node', 'npm', 'npx', 'sh', 'bash', 'env', 'git',
  'cat', 'cp', 'mv', 'rm', 'rmdir', 'ln', 'ls', 'mkdir', 'chmod', 'touch', 'uname', 'dirname', 'basename',
  'readlink', 'realpath', 'head', 'tail', 'tr', 'sed', 'grep', 'sort', 'date', 'id', 'tar', 'gzip',
];

function fail(why) {
  console.error(`check-fresh: ${why}`);
  process.exit(1);
}

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const work = mkdtempSync(join(tmpdir(), 'microsplit-fresh-'));
const bin = join(work, 'bin');
mkdirSync(bin);
for (const name of PROGRAMS) {
  const at = which(name);
  if (at) symlinkSync(at, join(bin, name));
  else if (['node', 'npm', 'sh', 'git'].includes(name)) fail(`${name} is not on PATH`);
}

const clone = join(work, 'microsplit');
const head = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8' }).stdout.trim();
if (dirty) console.log('check-fresh: the working tree has uncommitted changes; the clone has only what is committed');
const cloned = spawnSync('git', ['clone', '--quiet', root, clone], { stdio: 'inherit' });
if (cloned.status !== 0) fail('git clone failed');
console.log(`check-fresh: clone of ${head} in ${clone}; PATH holds only ${bin} (${PROGRAMS.filter((p) => existsSync(join(bin, p))).join(' ')})`);

const env = { ...process.env, PATH: bin };
delete env.CI;

/** Runs an npm script in the clone, output to the terminal and a log; resolves with its exit code and seconds. */
function runScript(script) {
  const log = join(work, `${script}.log`);
  const out = createWriteStream(log);
  const started = performance.now();
  const child = spawn(join(bin, 'npm'), ['run', script], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    from.on('data', (b) => {
      to.write(b);
      out.write(b);
    });
  }
  return new Promise((resolve) =>
    child.on('close', (code) => {
      out.end();
      resolve({ script, code, seconds: (performance.now() - started) / 1000, log });
    }),
  );
}

const results = [await runScript('demo')];
if (!args.has('--demo-only')) results.push(await runScript('test'));
const status = spawnSync('git', ['-C', clone, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim();

console.log('\n== fresh-machine Quick start ==');
for (const r of results) console.log(`npm run ${r.script.padEnd(5)} exit ${r.code}  ${r.seconds.toFixed(1)} s`);
const links = readFileSync(results[0].log, 'utf8').split('\n').find((l) => /^\s*links: /.test(l));
console.log(`demo ${links ? links.trim() : 'printed no links line'}`);
console.log(`tracked files changed in the clone: ${status ? `\n${status}` : 'none'}`);
if (args.has('--keep')) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
if (results.some((r) => r.code !== 0) || status) process.exit(1);
