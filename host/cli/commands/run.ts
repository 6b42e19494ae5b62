// `microsplit run`: runs input(s) across devices and prints the outputs and
// figures. With --testbed it is the one-shot form: it starts the testbed's
// simulated devices, plans, deploys with progress bars, runs and stops every
// process it started. With running devices (--device/--ports) it reuses a
// deployment the devices already hold (`microsplit deploy`) or deploys the
// plan first. With --json the last line is one JSON object.
import { Command, Option } from 'commander';
import { PIXEL_MODES, readInput, type PixelMode } from '../../model/inputs.ts';
import { strategies } from '../../plan/strategies/index.ts';
import { deviceReports, wireCounts, wireSince } from '../../run/report.ts';
import { Trace } from '../../run/trace.ts';
import { openGateway, type GatewayFlags } from '../gateway.ts';
import { addPlanChoiceOptions } from '../plan-options.ts';
import { kib, printTable } from '../table.ts';
import { addTargetOptions } from '../targets.ts';
import { inferResult, printResult } from './infer.ts';

interface RunOptions extends GatewayFlags {
  input: string[];
  pixels: PixelMode;
  trace?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('run input(s) across devices: one shot with --testbed (start, plan, deploy, run, clean up), or on running devices')
    .requiredOption('--model <file>', 'model file (.tflite or .msb)')
    .option('--plan <file>', 'use this plan (from `microsplit plan`) instead of planning')
    .option('--input <file>', 'input for the next graph input: .bin, .json, .npy, .bmp, .pgm (repeat once per input, in order)', (v: string, acc: string[]) => [...acc, v], [] as string[])
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
      if (opts.input.length !== graph.inputs.length) throw new Error(`the model has ${graph.inputs.length} input(s); ${opts.input.length} --input given`);
      const inputs = opts.input.map((file, k) => readInput(file, graph.tensors[graph.inputs[k]], opts.pixels));
      if (!gw.loaded) log('the devices already hold this plan: nothing to load');
      const executor = gw.executor({ trace: new Trace(opts.trace) });
      const before = wireCounts(gw.targets.clients.values());
      const r = await executor.infer(inputs);
      const inference = wireSince(before, gw.targets.clients.values());
      const result = inferResult(opts.model, 'devices', graph, r.outputs, 3);
      const devices = deviceReports(gw.plan, executor);
      const wire = wireCounts(gw.targets.clients.values());
      printResult(graph, result);
      console.log(`latency ${r.latencyMs.toFixed(1)} ms (predicted ${(gw.plan.predicted.makespanS * 1000).toFixed(1)} ms)`);
      console.log(
        `bytes on the wire: ${inference.bytes} for this inference (${inference.retransmitted} of them sent again), ` +
          `${wire.bytes} since connecting, deploy included (${wire.retransmitted} sent again)`,
      );
      printTable(
        ['device', 'fragments', 'busy ms', 'high-water', 'plan peak', 'budget'],
        devices.map((d) => [d.id, String(d.fragments), String(d.busy_ms), kib(d.high_water), kib(d.peak), kib(d.budget)]),
      );
      if (opts.json)
        console.log(
          JSON.stringify({
            ...result,
            latency_ms: r.latencyMs,
            devices,
            bytes_on_wire: wire.bytes,
            bytes_retransmitted: wire.retransmitted,
            inference_bytes_on_wire: inference.bytes,
            inference_bytes_retransmitted: inference.retransmitted,
            strategy: gw.plan.strategy.name,
          }),
        );
    } finally {
      await gw.close();
    }
  });
}
