// `microsplit run`: the one-shot form. Starts the testbed's simulated devices
// (or connects to running ones), plans, deploys with progress bars, runs the
// input(s), prints the outputs and figures, and cleans up every process it
// started. With --json the last line is one JSON object.
import { Command, Option } from 'commander';
import { PIXEL_MODES, readInput, type PixelMode } from '../../model/inputs.ts';
import { loadModel } from '../../model/load.ts';
import { strategies } from '../../plan/strategies/index.ts';
import { deviceReports, bytesOnWire } from '../../run/report.ts';
import { startSession, type TestbedSession } from '../../run/session.ts';
import { Trace } from '../../run/trace.ts';
import { inferResult, printResult } from './infer.ts';
import { deployBars } from '../progress.ts';
import { kib, printTable } from '../table.ts';
import { addPlanChoiceOptions, planChoiceOf, type PlanChoiceFlags } from '../plan-options.ts';

interface RunOptions extends PlanChoiceFlags {
  model: string;
  testbed: string;
  input: string[];
  pixels: PixelMode;
  trace?: string;
  json?: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('one shot: start a testbed, plan, deploy, run the input(s) across its devices, print outputs and figures, clean up')
    .requiredOption('--model <file>', 'model file (.tflite or .msb)')
    .requiredOption('--testbed <file>', 'testbed JSON file of simulated devices (see testbeds/)')
    .option('--input <file>', 'input for the next graph input: .bin, .json, .npy, .bmp, .pgm (repeat once per input, in order)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(new Option('--pixels <mode>', 'how image bytes become int8: raw bytes, or byte - 128').choices(PIXEL_MODES).default('raw'))
    .option('--trace <file>', 'write one JSON line per fragment run (device, times, bytes, retries, predicted)')
    .option('--no-progress', 'no deploy progress bars')
    .option('--json', 'print one JSON object as the last line');
  addPlanChoiceOptions(cmd, Object.keys(strategies));
  cmd.action(async (opts: RunOptions) => {
    const graph = await loadModel(opts.model);
    if (opts.input.length !== graph.inputs.length) throw new Error(`the model has ${graph.inputs.length} input(s); ${opts.input.length} --input given`);
    const inputs = opts.input.map((file, k) => readInput(file, graph.tensors[graph.inputs[k]], opts.pixels));
    const bars = deployBars(opts.progress && !opts.json);
    let session: TestbedSession | undefined;
    try {
      session = await startSession(graph, opts.testbed, {
        ...planChoiceOf(opts),
        log: opts.json ? undefined : (l) => console.error(l),
        deploy: { onProgress: bars.onProgress },
        execute: { trace: new Trace(opts.trace) },
      });
      bars.stop();
      const r = await session.executor.infer(inputs);
      const result = inferResult(opts.model, 'devices', graph, r.outputs, 3);
      const devices = deviceReports(session.plan, session.executor);
      const wire = bytesOnWire(session.clients.values());
      printResult(graph, result);
      console.log(`latency ${r.latencyMs.toFixed(1)} ms (predicted ${(session.plan.predicted.makespanS * 1000).toFixed(1)} ms), ${wire} bytes on the wire`);
      printTable(
        ['device', 'fragments', 'busy ms', 'high-water', 'plan peak', 'budget'],
        devices.map((d) => [d.id, String(d.fragments), String(d.busy_ms), kib(d.high_water), kib(d.peak), kib(d.budget)]),
      );
      if (opts.json) console.log(JSON.stringify({ ...result, latency_ms: r.latencyMs, devices, bytes_on_wire: wire, strategy: session.plan.strategy.name }));
    } finally {
      bars.stop();
      await session?.close();
    }
  });
}
