// A sweep: expand the spec into runs, skip those already in the results CSV,
// and run the rest in worker processes, writing one row per run as each
// ends (a failed run writes its error in its row). Virtual-time runs go
// `jobs` at a time; real-time runs measure wall-clock time, so they run one
// at a time after them, with nothing else of the sweep beside them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { appendCsv, readCsv, writeCsv } from './csv.ts';
import { DETAIL_NAMES, DETAILS, detailFile, LOG_FILE, RESULT_COLUMNS, resultsFile } from './files.ts';
import { parameterRow, type RunOutcome } from './run-one.ts';
import { expandRuns, loadExperiment, shardOf, type RunSpec } from './spec.ts';

const WORKER_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'worker-main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export type WorkerRequest = { run: RunSpec; baseDir: string };
export type WorkerReply = { type: 'ready' } | { type: 'done'; id: string; outcome: RunOutcome } | { type: 'failed'; id: string; message: string };

export interface SweepProgress {
  /** Runs of this invocation (the shard, less those already in the CSV). */
  total: number;
  done: number;
  failed: number;
  /** The run that just ended. */
  last?: { id: string; mode: string; error: string };
}

export interface SweepOptions {
  out: string;
  /** Worker processes for virtual-time runs. Default: the core count. */
  jobs?: number;
  /** Run every n-th run only: [i, n], 1-based. */
  shard?: [number, number];
  onStart?: (info: { runs: number; skipped: number; pending: number }) => void;
  onProgress?: (p: SweepProgress) => void;
}

export interface SweepSummary {
  name: string;
  out: string;
  csv: string;
  /** Runs in the spec (or shard), those found in the CSV already, and those run now. */
  runs: number;
  skipped: number;
  ran: number;
  failed: number;
  wallS: number;
}

/** Keeps only the detail rows of runs the results CSV has (a sweep stopped between the two leaves orphans). */
function pruneDetails(out: string, done: Set<string>): void {
  for (const name of DETAIL_NAMES) {
    const file = detailFile(out, name);
    const { rows } = readCsv(file);
    if (rows.some((r) => !done.has(r.run_id))) writeCsv(file, DETAILS[name].columns, rows.filter((r) => done.has(r.run_id)));
  }
}

export async function runSweep(specFile: string, opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const { spec, baseDir } = loadExperiment(specFile);
  let runs = expandRuns(spec);
  if (opts.shard) runs = shardOf(runs, opts.shard[0], opts.shard[1]);
  mkdirSync(join(opts.out, 'details'), { recursive: true });
  const csv = resultsFile(opts.out);
  const existing = readCsv(csv);
  if (existing.rows.length && existing.columns.join(',') !== RESULT_COLUMNS.join(','))
    throw new Error(`${csv} has other columns than this version writes: write to another --out`);
  const done = new Set(existing.rows.map((r) => r.run_id));
  pruneDetails(opts.out, done);
  const pending = runs.filter((r) => !done.has(r.id));
  opts.onStart?.({ runs: runs.length, skipped: runs.length - pending.length, pending: pending.length });

  const progress: SweepProgress = { total: pending.length, done: 0, failed: 0 };
  const log = createWriteStream(join(opts.out, LOG_FILE), { flags: 'a' });
  const record = (run: RunSpec, outcome: RunOutcome | undefined, error: string) => {
    // Details first, the results row last: a row in results.csv means the run is complete.
    if (outcome) for (const name of DETAIL_NAMES) appendCsv(detailFile(opts.out, name), DETAILS[name].columns, outcome[name]);
    appendCsv(csv, RESULT_COLUMNS, [outcome?.row ?? { ...parameterRow(run), error }]);
    progress.done++;
    const err = String(outcome?.row.error ?? error);
    if (err) {
      progress.failed++;
      log.write(`run ${run.id}: ${err}\n`);
    }
    progress.last = { id: run.id, mode: run.mode, error: err };
    opts.onProgress?.({ ...progress });
  };
  try {
    const jobs = Math.max(1, opts.jobs ?? availableParallelism());
    await runPool(pending.filter((r) => r.mode === 'virtual'), jobs, baseDir, log, record);
    await runPool(pending.filter((r) => r.mode === 'real'), 1, baseDir, log, record);
  } finally {
    await new Promise((r) => log.end(r));
  }
  return { name: spec.name, out: opts.out, csv, runs: runs.length, skipped: runs.length - pending.length, ran: progress.done, failed: progress.failed, wallS: (performance.now() - t0) / 1000 };
}

/** One worker process: runs handed over one at a time. */
class Worker {
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;
  private pending?: { resolve: (r: WorkerReply) => void };

  constructor(log: WriteStream) {
    this.child = spawn(process.execPath, ['--import', TSX, WORKER_MAIN], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    // Device processes and the executor write notes; they go to the log, not over the progress bar.
    this.child.stdout!.pipe(log, { end: false });
    this.child.stderr!.pipe(log, { end: false });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', () => resolve());
      this.child.once('exit', (code) => reject(new Error(`experiment worker exited with code ${code} before it was ready`)));
    });
    this.child.on('message', (m: WorkerReply) => {
      if (m.type !== 'ready') this.pending?.resolve(m);
    });
    this.child.on('exit', (code, signal) => this.pending?.resolve({ type: 'failed', id: '', message: `the run's worker process exited (${signal ?? `code ${code}`})` }));
  }

  /** Runs `run`; a run still going after its timeout is stopped by ending the worker. */
  run(run: RunSpec, baseDir: string): Promise<WorkerReply> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        void this.stop();
        resolve({ type: 'failed', id: run.id, message: `stopped after ${run.timeoutS} s (runTimeoutS)` });
      }, run.timeoutS * 1000);
      this.pending = {
        resolve: (r) => {
          clearTimeout(timer);
          this.pending = undefined;
          resolve(r);
        },
      };
      this.child.send({ run, baseDir } satisfies WorkerRequest);
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (the worker's launcher then stops its device processes), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

async function runPool(
  runs: RunSpec[],
  jobs: number,
  baseDir: string,
  log: WriteStream,
  record: (run: RunSpec, outcome: RunOutcome | undefined, error: string) => void,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    let worker: Worker | undefined;
    try {
      while (next < runs.length) {
        const run = runs[next++];
        if (!worker?.alive) {
          worker = new Worker(log);
          await worker.ready;
        }
        const reply = await worker.run(run, baseDir);
        if (reply.type === 'done') record(run, reply.outcome, '');
        else record(run, undefined, reply.type === 'failed' ? reply.message : 'no reply');
      }
    } finally {
      await worker?.stop();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, runs.length) }, lane));
}
