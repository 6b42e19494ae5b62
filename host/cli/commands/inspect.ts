// `microsplit inspect --model M [--budget 64k]`: per layer op, shapes, MACs,
// weight bytes and live activation bytes; the exact single-device peak,
// explained; with --budget, the fewest devices of that budget that run it.
// With --json the last line is one JSON object (InspectReport, plus budget
// and devicesNeeded with --budget).
import type { Command } from 'commander';
import { loadModel } from '../../model/load.ts';
import { fewestDevices, inspectModel, type InspectReport } from '../../plan/inspect.ts';
import { parseBytes, referenceDevice } from '../../plan/profiles.ts';
import { printTable } from '../table.ts';

interface InspectOptions {
  model: string;
  budget?: number;
  json?: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function register(program: Command): void {
  program
    .command('inspect')
    .description('per-layer MACs, weights and live activations; the exact single-device arena; the fewest devices of a budget')
    .requiredOption('--model <file>', 'the model (.tflite or bundle)')
    .option('--budget <bytes>', 'device budget, e.g. 64k: report the fewest such devices that run the model', (v) => {
      const b = parseBytes(v);
      if (!(b > 0)) throw new Error(`--budget must be positive, got "${v}"`);
      return b;
    })
    .option('--json', 'print one JSON object as the last line')
    .action(async (opts: InspectOptions) => {
      const graph = await loadModel(opts.model);
      const r = inspectModel(graph);
      printReport(r);
      let extra = {};
      if (opts.budget !== undefined) {
        const n = fewestDevices(graph, referenceDevice(opts.budget), r.paramBytes);
        console.log(
          n === null
            ? `no plan found with up to 64 devices of ${fmt(opts.budget)} bytes`
            : `fewest devices of ${fmt(opts.budget)} bytes that run it: ${n} (microsplit planner)`,
        );
        extra = { budget: opts.budget, devicesNeeded: n };
      }
      if (opts.json) console.log(JSON.stringify({ ...r, ...extra }));
    });
}

function printReport(r: InspectReport): void {
  printTable(
    ['op', 'kind', 'input', 'output', 'MACs', 'weights', 'live'],
    r.layers.map((l) => [
      String(l.op),
      l.gateway ? `${l.kind} (gateway)` : l.kind,
      l.inputs.map((s) => s.join('x')).join(' + '),
      l.output.join('x'),
      fmt(l.macs),
      fmt(l.weightBytes),
      fmt(l.liveBytes),
    ]),
  );
  console.log(`
single-device arena for ${r.model}:
  activations  ${fmt(r.activationBytes)} bytes  (largest sum of live activations: ${fmt(r.maxLiveBytes)} bytes at op ${r.maxLiveOp}; the offset planner ${r.activationBytes === r.maxLiveBytes ? 'reaches that bound' : `needs ${fmt(r.activationBytes - r.maxLiveBytes)} more`})
  parameters   ${fmt(r.paramBytes)} bytes  (${fmt(r.weightBytes)} bytes of weights and biases in the model, plus op records and per-channel constants)
  peak         ${fmt(r.peakBytes)} bytes  = activations + parameters`);
}
