// `microsplit run`: runs input(s) across devices and prints the outputs and
// figures, each inference's latency beside the plan's prediction; several
// inputs of a one-input model run one after another, a row each and a summary. With --testbed it is the one-shot form: it starts the testbed's
// simulated devices, plans, deploys with progress bars, runs and stops every
// process it started. With running devices (--device/--ports) it reuses a
// deployment the devices already hold (`microsplit deploy`) or deploys the
// plan first. With --json the last line is one JSON object.
import { Command, Option } from 'commander';
import { inputFilesIn, PIXEL_MODES, readInput, type PixelMode } from '../../model/inputs.ts';
import { strategies } from '../../plan/strategies/index.ts';
import { deviceReports, percentile, wireCounts, wireSince } from '../../run/report.ts';
import { Trace } from '../../run/trace.ts';
import { openGateway, type GatewayFlags } from '../gateway.ts';
import { addPlanChoiceOptions } from '../plan-options.ts';
import { kib, printTable } from '../table.ts';
import { addTargetOptions } from '../targets.ts';
import { inferResult, printResult, type InferResult } from './infer.ts';

interface RunOptions extends GatewayFlags {
  input: string[];
  inputs?: string;
  pixels: PixelMode;
  trace?: string;
}

/**
 * The inferences to run, each a list of files (one per graph input): for a
 * one-input model every --input and every file of --inputs DIR is one
 * inference; a model of k inputs takes k --input for its one inference.
 */
function inferencesOf(opts: RunOptions, graphInputs: number): string[][] {
  if (graphInputs === 1) {
    const files = [...opts.input, ...(opts.inputs ? inputFilesIn(opts.inputs) : [])];
    if (files.length === 0) throw new Error('give --input FILE (repeat for several inferences) or --inputs DIR');
    return files.map((f) => [f]);
  }
  if (opts.inputs) throw new Error(`--inputs DIR is for one-input models; this one has ${graphInputs} inputs: give --input once per input`);
  if (opts.input.length !== graphInputs) throw new Error(`the model has ${graphInputs} inputs; ${opts.input.length} --input given`);
  return [opts.input];
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('run input(s) across devices: one shot with --testbed (start, plan, deploy, run, clean up), or on running devices')
    .requiredOption('--model <file>', 'model file (.tflite or .msb)')
    .option('--plan <file>', 'use this plan (from `microsplit plan`) instead of planning')
    .option(
      '--input <file>',
      'input file: .bin, .json, .npy, .bmp, .pgm. One-input model: each --input is one inference (one row each, then a summary); a model of k inputs: k of them, in order',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--inputs <dir>', "one-input model: one inference per input file in DIR, by name (after any --input)")
    .addOption(new Option('--pixels <mode>', 'how image bytes become int8: raw bytes, or byte - 128').choices(PIXEL_MODES).default('raw'))
    .option('--trace <file>', 'write one JSON line per fragment run (device, times, bytes, retries, predicted)')
    .option('--no-progress', 'no deploy progress bars')
    .option('--json', 'print one JSON object as the last line');
  addTargetOptions(cmd);
  addPlanChoiceOptions(cmd, Object.keys(strategies));
  cmd.action(async (opts: RunOptions) => {
    // Notes go to stderr, so stdout stays the outputs (and the JSON line).
    const log = (l: string) => console.error(l);
    const gw = await openGateway(opts, log);
    try {
      const graph = gw.graph;
      // Every file is read before the first inference: a bad one costs no run.
      const runs = inferencesOf(opts, graph.inputs.length).map((files) => ({
        files,
        data: files.map((file, k) => readInput(file, graph.tensors[graph.inputs[k]], opts.pixels)),
      }));
      if (!gw.loaded) log('the devices already hold this plan: nothing to load');
      const executor = gw.executor({ trace: new Trace(opts.trace) });
      const predictedMs = gw.plan.predicted.makespanS * 1000;
      // One at a time, so each latency is the inference's own, comparable with the prediction.
      const rows: RunRow[] = [];
      for (const { files, data } of runs) {
        const before = wireCounts(gw.targets.clients.values());
        const r = await executor.infer(data);
        const inference = wireSince(before, gw.targets.clients.values());
        rows.push({
          input: files.join(','),
          ...inferResult(opts.model, 'devices', graph, r.outputs, 3),
          latency_ms: r.latencyMs,
          predicted_ms: predictedMs,
          inference_bytes_on_wire: inference.bytes,
          inference_bytes_retransmitted: inference.retransmitted,
        });
      }
      const devices = deviceReports(gw.plan, executor);
      const wire = wireCounts(gw.targets.clients.values());
      const totals = { devices, bytes_on_wire: wire.bytes, bytes_retransmitted: wire.retransmitted, strategy: gw.plan.strategy.name };
      if (rows.length === 1) {
        const [row] = rows;
        printResult(graph, row);
        console.log(`latency ${row.latency_ms.toFixed(1)} ms (predicted ${predictedMs.toFixed(1)} ms)`);
        console.log(
          `bytes on the wire: ${row.inference_bytes_on_wire} for this inference (${row.inference_bytes_retransmitted} of them sent again), ` +
            `${wire.bytes} since connecting, deploy included (${wire.retransmitted} sent again)`,
        );
      } else printRows(rows, wire);
      printTable(
        ['device', 'fragments', 'busy ms', 'high-water', 'plan peak', 'budget'],
        devices.map((d) => [d.id, String(d.fragments), String(d.busy_ms), kib(d.high_water), kib(d.peak), kib(d.budget)]),
      );
      if (opts.json)
        console.log(JSON.stringify(rows.length === 1 ? { ...rows[0], ...totals } : { model: opts.model, engine: 'devices', results: rows, summary: summaryOf(rows), ...totals }));
    } finally {
      await gw.close();
    }
  });
}

type RunRow = InferResult & {
  input: string;
  latency_ms: number;
  predicted_ms: number;
  inference_bytes_on_wire: number;
  inference_bytes_retransmitted: number;
};

function summaryOf(rows: RunRow[]) {
  const lat = rows.map((r) => r.latency_ms).sort((a, b) => a - b);
  return {
    inferences: rows.length,
    latency_mean_ms: lat.reduce((a, b) => a + b, 0) / lat.length,
    latency_p50_ms: percentile(lat, 50),
    latency_p95_ms: percentile(lat, 95),
    predicted_ms: rows[0].predicted_ms,
    inference_bytes_on_wire: rows.reduce((a, r) => a + r.inference_bytes_on_wire, 0),
    inference_bytes_retransmitted: rows.reduce((a, r) => a + r.inference_bytes_retransmitted, 0),
  };
}

/** One row per inference (its top class per output), then the summary line. */
function printRows(rows: RunRow[], wire: { bytes: number; retransmitted: number }): void {
  const top = (r: RunRow) => r.top.map((t) => (t[0]?.[0] ? `${t[0][0].class} (${Number(t[0][0].value.toPrecision(4))})` : '')).join(' ');
  printTable(
    ['input', 'top', 'latency ms', 'predicted ms', 'bytes on the wire'],
    rows.map((r) => [r.input, top(r), r.latency_ms.toFixed(1), r.predicted_ms.toFixed(1), String(r.inference_bytes_on_wire)]),
  );
  const s = summaryOf(rows);
  console.log(
    `${s.inferences} inferences: latency mean ${s.latency_mean_ms.toFixed(1)} ms, p50 ${s.latency_p50_ms.toFixed(1)} ms, p95 ${s.latency_p95_ms.toFixed(1)} ms ` +
      `(predicted ${s.predicted_ms.toFixed(1)} ms); ${s.inference_bytes_on_wire} bytes on the wire for them (${s.inference_bytes_retransmitted} sent again), ` +
      `${wire.bytes} since connecting, deploy included`,
  );
}
