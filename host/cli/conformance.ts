// The conformance runner: every case of every *.json vector file in the given
// directories, run on one engine and judged against TFLM's own outputs. Shared
// by `npm run conformance` (conformance-main.ts) and `microsplit conformance`.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { runGraph, type Engine } from '../model/engine.ts';
import { oracle } from '../model/oracle.ts';
import { judge, loadVectorFile } from '../model/refcase.ts';

/** The repository's copy of TFLM's vectors, wherever the command is run from. */
export const DEFAULT_VECTOR_DIR = fileURLToPath(new URL('../../test/vectors/tflm', import.meta.url));
/** wasm: the AS kernels under Node's WebAssembly; wasm3: the same kernels under the wasm3 interpreter (host/wasm3). */
export const ENGINE_NAMES = ['wasm', 'wasm3', 'oracle'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** How the user picked what to check; a later `device` (a board over a link) adds a field here and a case below. */
export interface EngineChoice {
  engine: EngineName;
}

/** The engine a choice names. The AS kernels (wasm, wasm3) are loaded only when asked for. */
export async function selectEngine(choice: EngineChoice): Promise<Engine> {
  if (choice.engine === 'oracle') return oracle;
  let mod: typeof import('../run/wasm-engine.ts');
  try {
    mod = await import(new URL('../run/wasm-engine.ts', import.meta.url).href);
  } catch (e) {
    throw new Error(`the wasm engine (host/run/wasm-engine.ts) cannot be loaded: ${(e as Error).message}; try --engine oracle`);
  }
  if (choice.engine === 'wasm') return mod.createWasmEngine();
  const { missingWasm3 } = await import('../wasm3/build.ts');
  const missing = missingWasm3();
  if (missing) throw new Error(`--engine wasm3: ${missing}`);
  return mod.createWasmEngine(undefined, 'wasm3');
}

export interface FileCounts {
  total: number;
  passed: number;
  failed: number;
}

export interface ConformanceSummary extends FileCounts {
  engine: string;
  /** Per vector file name. */
  files: Record<string, FileCounts>;
  failures: { case: string; detail: string }[];
}

/** The *.json files of each argument (a directory, or a single .json file), in name order. */
export function vectorFiles(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    if (!existsSync(p)) throw new Error(`no such vector directory or file: ${p}`);
    if (!statSync(p).isDirectory()) return [p];
    const files = readdirSync(p).filter((f) => f.endsWith('.json')).sort();
    if (files.length === 0) throw new Error(`no *.json vector files in ${p}`);
    return files.map((f) => join(p, f));
  });
}

/** Runs every case; `onFailure` hears each failing case as it happens. */
export async function runConformance(
  paths: readonly string[],
  engine: Engine,
  onFailure: (caseId: string, detail: string) => void = () => {},
): Promise<ConformanceSummary> {
  const summary: ConformanceSummary = { engine: engine.name, total: 0, passed: 0, failed: 0, files: {}, failures: [] };
  for (const path of vectorFiles(paths)) {
    const counts: FileCounts = { total: 0, passed: 0, failed: 0 };
    summary.files[basename(path)] = counts;
    for (const rc of loadVectorFile(path)) {
      let detail: string | undefined;
      try {
        const [out] = await runGraph(engine, rc.graph, rc.inputs);
        detail = judge(rc, out).detail;
      } catch (e) {
        detail = `${engine.name} failed: ${(e as Error).message}`;
      }
      counts.total++;
      if (detail === undefined) {
        counts.passed++;
      } else {
        counts.failed++;
        summary.failures.push({ case: rc.id, detail });
        onFailure(rc.id, detail);
      }
    }
    summary.total += counts.total;
    summary.passed += counts.passed;
    summary.failed += counts.failed;
  }
  return summary;
}

interface CommandOptions {
  engine: EngineName | 'wasm2c';
  json?: boolean;
  device?: string;
  board?: string;
}

/** Adds the conformance arguments, options and action to `cmd`. Exit status 1 when any case fails. */
export function defineConformanceCommand(cmd: Command): Command {
  return cmd
    .description("check an engine against TFLite Micro's reference vectors (default: test/vectors/tflm)")
    .argument('[dirs...]', 'directories (or files) of *.json vector files', [DEFAULT_VECTOR_DIR])
    .addOption(new Option('--engine <name>', 'engine to check; with --board, the image\'s engine (wasm2c, the default, or wasm3)').choices([...ENGINE_NAMES, 'wasm2c']).default('wasm'))
    .option('--json', 'print a JSON summary as the last line')
    .option('--device <port>', 'check a connected device instead (/dev/ttyUSB0, /dev/pts/N, tcp://host:port): every kernel op runs on it')
    .option('--board <name>', 'start a board image (a QEMU board, or linux: the native build on a PTY), check it as --device does, stop it')
    .action(async (dirs: string[], opts: CommandOptions) => {
      const { connectDevice, deviceEngine } = await import('../run/device-engine.ts');
      const board = opts.board ? await startBoard(opts.board, opts.engine) : undefined;
      try {
        const uri = board?.path ?? opts.device;
        const device = uri ? await connectDevice(uri) : undefined;
        try {
          if (!uri && opts.engine === 'wasm2c') throw new Error('--engine wasm2c names a board image: give --board');
          const engine = device ? deviceEngine(device, opts.board ? `board ${opts.board}${opts.engine === 'wasm3' ? ' (wasm3)' : ''}` : `device ${opts.device}`) : await selectEngine({ engine: opts.engine as EngineName });
          await report(dirs, engine, opts);
        } finally {
          await device?.close();
        }
      } finally {
        await board?.stop();
      }
    });
}

/** Starts the image `--board` names under `--engine` (wasm2c unless wasm3). */
async function startBoard(name: string, engine: CommandOptions['engine']) {
  const { BOARD_NAMES, startBoardImage } = await import('../sim/board-image.ts');
  if (!(BOARD_NAMES as readonly string[]).includes(name)) throw new Error(`--board ${name}: unknown board (known: ${BOARD_NAMES.join(', ')})`);
  if (engine === 'wasm' || engine === 'oracle') engine = 'wasm2c';
  return startBoardImage(name as (typeof BOARD_NAMES)[number], engine);
}

/** Runs the vectors on `engine` and prints one line per failure and a summary. */
async function report(dirs: string[], engine: Engine, opts: CommandOptions): Promise<void> {
  const summary = await runConformance(dirs, engine, (id, detail) => console.log(`FAIL ${id}: ${detail}`));
  const nFiles = Object.keys(summary.files).length;
  console.log(`conformance (${summary.engine}): ${summary.passed}/${summary.total} cases passed, ${summary.failed} failed, ${nFiles} files`);
  if (opts.json) console.log(JSON.stringify(summary));
  if (summary.failed > 0) process.exitCode = 1;
}
