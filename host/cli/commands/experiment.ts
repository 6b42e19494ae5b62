// `microsplit experiment SPEC.json`: a sweep of runs to one CSV row each and
// an HTML report (host/lab/); `microsplit experiment merge DIR...` joins the
// results of shards run elsewhere. `microsplit report DIR` is in report.ts.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { mergeResults } from '../../lab/merge.ts';
import { writeReport } from '../../lab/report.ts';
import { runSweep } from '../../lab/runner.ts';

interface ExperimentOptions {
  out?: string;
  jobs?: number;
  shard?: [number, number];
  json?: boolean;
  progress: boolean;
}

function positiveInt(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${v}"`);
    return n;
  };
}

function shardArg(v: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(i >= 1 && n >= 1 && i <= n)) throw new Error(`--shard must be i/n with 1 <= i <= n, got "${v}"`);
  return [i, n];
}

export function register(program: Command): void {
  const cmd = program
    .command('experiment')
    .description('run a sweep (models x devices x strategies x λ x faults): one CSV row per run, resumable, and an HTML report')
    .argument('<spec>', 'experiment spec JSON (see examples/experiments/)')
    .option('--out <dir>', 'results folder (default: experiments/<spec name>)')
    .option('--jobs <n>', 'worker processes for virtual-time runs (default: the core count)', positiveInt('--jobs'))
    .option('--shard <i/n>', 'run only every n-th run, starting at the i-th (join shards with `experiment merge`)', shardArg)
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print a JSON summary as the last line')
    // `experiment merge --out` is merge's own option, not the sweep's.
    .enablePositionalOptions()
    .action(async (specFile: string, opts: ExperimentOptions) => {
      let bar: cliProgress.SingleBar | undefined;
      const name = specFile.replace(/^.*\//, '').replace(/\.json$/, '');
      const summary = await runSweep(specFile, {
        out: opts.out ?? `experiments/${name}`,
        jobs: opts.jobs,
        shard: opts.shard,
        onStart: ({ runs, skipped, pending }) => {
          console.error(`${runs} runs${opts.shard ? ` in shard ${opts.shard.join('/')}` : ''}: ${skipped} already in the results, ${pending} to run`);
          if (opts.progress && pending > 0) {
            bar = new cliProgress.SingleBar(
              { stream: process.stderr, format: ' runs |{bar}| {value}/{total}  failed {failed}  ETA {eta_formatted}', noTTYOutput: true, notTTYSchedule: 5000, etaBuffer: 8 },
              cliProgress.Presets.shades_classic,
            );
            bar.start(pending, 0, { failed: 0 });
          }
        },
        onProgress: (p) => bar?.update(p.done, { failed: p.failed }),
      });
      bar?.stop();
      const html = await writeReport(summary.out);
      console.log(`${summary.ran} runs in ${summary.wallS.toFixed(1)} s (${summary.failed} with an error, ${summary.skipped} already done)`);
      console.log(`results: ${summary.csv}`);
      console.log(`report:  ${html}`);
      if (opts.json) console.log(JSON.stringify({ ...summary, html }));
    });
  cmd
    .command('merge')
    .description('join the results folders of several shards into one, and write its report')
    .argument('<dirs...>', 'results folders (each an --out of `microsplit experiment`)')
    .requiredOption('--out <dir>', 'folder for the merged results')
    .action(async (dirs: string[], opts: { out: string }) => {
      const m = mergeResults(dirs, opts.out);
      const html = await writeReport(opts.out);
      console.log(`${m.runs} runs merged into ${opts.out}${m.duplicates ? ` (${m.duplicates} found twice; first copy kept)` : ''}`);
      console.log(`report:  ${html}`);
    });
}
