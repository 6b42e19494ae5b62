// `npm run lint:imports`: the import rule of docs/architecture.md. Product
// code (host/, assembly/) imports only downward through the rooms
// cli → run → sim → {plan, link, eval} → abi → {model, wasm3}, never tools/
// or test/, and no files import each other, directly or round a longer cycle. Imports are
// read with TypeScript's own preprocessor (static, type-only, re-exports
// and dynamic import()), not by pattern.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Rank of each room: a file may import its own room or a room of lower rank.
 * Rooms of equal rank (plan, link, eval; model, wasm3) do not import each other. host/*.ts
 * directly (small shared helpers) rank lowest.
 */
export const RANKS: Record<string, number> = {
  'host/cli': 8,
  'host/lab': 7,
  'host/run': 6,
  'host/sim': 5,
  'host/plan': 4,
  'host/link': 4,
  'host/eval': 4,
  'host/abi': 3,
  'host/model': 2,
  'host/wasm3': 2,
  host: 1,
  'assembly/agent': 2,
  'assembly/kernels': 1,
  assembly: 3,
};

/** The room of a repository path: the longest RANKS key it lies in, or undefined outside product code. */
export function roomOf(path: string): string | undefined {
  let best: string | undefined;
  for (const room of Object.keys(RANKS)) {
    const inRoom = room === 'host' || room === 'assembly' ? dirname(path) === room : path.startsWith(`${room}/`);
    if (inRoom && (!best || room.length > best.length)) best = room;
  }
  return best;
}

/** Relative imports of one source file, resolved to repository paths (AssemblyScript's extensionless ones get .ts). */
export function importsOf(path: string, source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => {
      const p = normalize(join(dirname(path), name));
      return p.endsWith('.ts') || p.endsWith('.js') || p.endsWith('.json') ? p : `${p}.ts`;
    });
}

/** Every broken rule, one line each; `files` maps repository paths to their text. */
export function checkImports(files: ReadonlyMap<string, string>): string[] {
  const bad: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [path, source] of files) {
    const from = roomOf(path);
    if (!from) {
      bad.push(`${path} lies in no room of RANKS (tools/check-imports.ts): give its folder a rank`);
      continue;
    }
    const targets = [...new Set(importsOf(path, source))];
    graph.set(
      path,
      targets.filter((t) => files.has(t)),
    );
    for (const t of targets) {
      if (t.startsWith('tools/') || t.startsWith('test/')) {
        bad.push(`${path} imports ${t}: product code never imports tools/ or test/`);
        continue;
      }
      const to = roomOf(t);
      if (!to) continue;
      if (to.split('/')[0] !== from.split('/')[0]) bad.push(`${path} imports ${t}: host and assembly do not import each other`);
      else if (to !== from && RANKS[to] >= RANKS[from]) bad.push(`${path} imports ${t}: ${from} may not import ${to} (imports point down: docs/architecture.md)`);
    }
  }
  for (const cycle of cycles(graph)) bad.push(`import cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  return bad;
}

/** Strongly connected components of more than one file (Tarjan), each in import order. */
function cycles(graph: ReadonlyMap<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.reverse());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** The tracked TypeScript files of host/ and assembly/, with their text. */
export function productFiles(root = ROOT): Map<string, string> {
  const paths = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'host', 'assembly'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((p) => p.endsWith('.ts'));
  const files = new Map<string, string>();
  for (const p of paths) {
    try {
      files.set(p, readFileSync(join(root, p), 'utf8'));
    } catch {
      // listed by git but deleted in the working tree
    }
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bad = checkImports(productFiles());
  for (const line of bad) console.error(line);
  if (bad.length) process.exit(1);
  console.log('imports point down: no upward import, none of tools/ or test/, no cycle');
}
