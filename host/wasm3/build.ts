// Builds the wasm3 Node addon (binding.c + wasm3's core files) with the
// system C compiler against Node-API's headers, once per source state, into
// build/wasm3/. wasm3 is in neither npm nor Debian: its source is found by
// path (WASM3_SRC, else ../shared/third_party/wasm3/source beside the
// repository), never copied into it. Take commit
// c9b579d8c048db71ce2322cf68a0d88ae81684d2 of github.com/wasm3/wasm3 (or
// PlatformIO's wasm3/wasm3 library) and point WASM3_SRC at its source/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BINDING = join(ROOT, 'host', 'wasm3', 'binding.c');
/** Memory resizing under a limit, shared with the firmware's wasm3 engine. */
const ENGINE_DIR = join(ROOT, 'firmware', 'engine');
const SHARED = [join(ENGINE_DIR, 'wasm3_memory.c')];
const OUT = join(ROOT, 'build', 'wasm3');
/** The wasm3 files every build compiles (firmware/Makefile reads the same list). */
export const WASM3_CORE_LIST = join(ROOT, 'firmware', 'engine', 'wasm3-core.txt');
const CC = process.env.CC ?? 'cc';
const FLAGS = ['-std=gnu11', '-O2', '-DNDEBUG', '-fPIC', '-shared', '-Dd_m3HasFloat=1'];

/** wasm3's source/ directory, or null when neither WASM3_SRC nor the default path holds it. */
export function wasm3Source(): string | null {
  const dir = process.env.WASM3_SRC ? resolve(process.env.WASM3_SRC) : resolve(ROOT, '..', 'shared', 'third_party', 'wasm3', 'source');
  return existsSync(join(dir, 'wasm3.h')) ? dir : null;
}

export function wasm3CoreFiles(): string[] {
  return readFileSync(WASM3_CORE_LIST, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Node-API's headers: the node-api-headers package, else the ones Node ships. */
function nodeApiHeaders(): string | null {
  try {
    const dir = (createRequire(import.meta.url)('node-api-headers') as { include_dir: string }).include_dir;
    if (existsSync(join(dir, 'node_api.h'))) return dir;
  } catch {
    // not installed: try Node's own
  }
  for (const dir of [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node']) if (existsSync(join(dir, 'node_api.h'))) return dir;
  return null;
}

/** Why the wasm3 addon cannot be built here (one line), or null. */
export function missingWasm3(): string | null {
  if (!wasm3Source())
    return 'wasm3 source not found: set WASM3_SRC to the source/ directory of wasm3 commit c9b579d (github.com/wasm3/wasm3 or PlatformIO wasm3/wasm3), or place it at ../shared/third_party/wasm3 beside the repository';
  if (spawnSync('sh', ['-c', `command -v ${CC}`]).status !== 0) return `no C compiler (${CC}) to build the wasm3 addon (Debian package gcc)`;
  if (!nodeApiHeaders()) return "Node-API headers not found (npm package node-api-headers, or Node's include/node)";
  return null;
}

let built: string | undefined;

/** Path of the addon, compiled first when the sources changed. Throws the compiler's output on failure. */
export function buildWasm3Addon(): string {
  if (built) return built;
  const why = missingWasm3();
  if (why) throw new Error(why);
  const src = wasm3Source()!;
  const headers = nodeApiHeaders()!;
  const files = wasm3CoreFiles().map((f) => join(src, f));
  const hash = createHash('sha256').update(JSON.stringify([CC, FLAGS, process.platform]));
  for (const f of [BINDING, ...SHARED, join(ENGINE_DIR, 'wasm3_memory.h'), ...files, ...['wasm3.h', 'm3_env.h', 'm3_config.h', 'm3_core.h'].map((h) => join(src, h))]) hash.update(readFileSync(f));
  const out = join(OUT, `wasm3-${hash.digest('hex').slice(0, 16)}.node`);
  if (!existsSync(out)) {
    mkdirSync(OUT, { recursive: true });
    // Parallel builds each write their own file; the rename makes the result whole or absent.
    const tmp = `${out}.${process.pid}.tmp`;
    const link = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
    const r = spawnSync(CC, [...FLAGS, ...link, `-I${src}`, `-I${ENGINE_DIR}`, `-I${headers}`, '-o', tmp, BINDING, ...SHARED, ...files, '-lm'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the wasm3 addon failed (${CC}):\n${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
    renameSync(tmp, out);
  }
  built = out;
  return out;
}
