// `microsplit demo`: a virtual testbed of heterogeneous simulated devices
// (none can hold the models alone) runs TFLite Micro's person_detect on its
// two test images, checked against TFLM's output and the oracle, then a few
// hundred MNIST test images on the bundled mnist-l, and reports accuracy,
// latency, throughput, memory and bytes on the wire. Every process it starts
// is stopped at the end, also on Ctrl-C.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { image, readSubset } from '../../eval/datasets.ts';
import { runGraph } from '../../model/engine.ts';
import { readInput } from '../../model/inputs.ts';
import type { Graph, TensorData } from '../../model/ir.ts';
import { loadModel } from '../../model/load.ts';
import { oracle } from '../../model/oracle.ts';
import type { DeviceProfile } from '../../plan/profiles.ts';
import { planDevices } from '../../plan/plan-file.ts';
import { bytesOnWire, deviceReports, memoryViolations, percentile, type DeviceReport } from '../../run/report.ts';
import { deployModel, makePlan, openTestbed, type ModelDeployment, type OpenTestbed } from '../../run/session.ts';
import { deployBars } from '../progress.ts';
import { kib, printTable } from '../table.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface DemoOptions {
  testbed: string;
  images: number;
  mnistModel: string;
  progress: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run person_detect and mnist-l across a virtual testbed of heterogeneous devices, end to end, and report')
    .option('--testbed <file>', 'testbed JSON file', join(ROOT, 'testbeds', 'demo.json'))
    .option('--mnist-model <file>', 'the MNIST model to run', join(ROOT, 'models', 'mnist-l.tflite'))
    .option('--images <n>', 'MNIST test images to run on mnist-l', (v) => positiveInt(v, '--images'), 200)
    .option('--no-progress', 'no deploy progress bars')
    .option('--json', 'print one JSON object with every figure as the last line')
    .action(async (opts: DemoOptions) => {
      const say = opts.json ? (s: string) => console.error(s) : (s: string) => console.log(s);
      const t0 = performance.now();
      const person = await loadModel(join(ROOT, 'models', 'person_detect', 'person_detect.tflite'));
      const mnist = await loadModel(opts.mnistModel);
      say(`starting the testbed ${opts.testbed}`);
      const tb = await openTestbed(opts.testbed, (l) => say(`  ${l}`), true);
      try {
        const pd = await personDetect(person, tb, opts, say);
        const mn = await mnistL(mnist, tb, opts, say);
        const total = (performance.now() - t0) / 1000;
        say(`\ndemo finished in ${total.toFixed(1)} s; ${bytesOnWire(tb.clients.values())} bytes crossed the links`);
        if (opts.json) console.log(JSON.stringify({ person_detect: pd, mnist_l: mn, seconds: total, bytes_on_wire: bytesOnWire(tb.clients.values()) }));
        if (!pd.matches_tflm || !pd.matches_oracle || mn.mismatches > 0) process.exitCode = 1;
      } finally {
        await tb.close();
      }
    });
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${v}"`);
  return n;
}

/** Why no single device of the testbed can run the model, or the one that can. */
async function singleDevice(graph: Graph, profiles: DeviceProfile[]): Promise<{ feasible: boolean; text: string; makespanS?: number }> {
  try {
    const plan = await makePlan(graph, profiles, { strategy: 'single' });
    const d = plan.memory.find((m) => m.device === planDevices(plan)[0])!;
    return { feasible: true, text: `${d.device} alone could hold it (peak ${kib(d.peak)})`, makespanS: plan.predicted.makespanS };
  } catch (e) {
    const largest = Math.max(...profiles.map((p) => p.budget));
    return { feasible: false, text: `no single device can hold it (largest budget ${kib(largest)}): ${(e as Error).message}` };
  }
}

async function deployWithBars(graph: Graph, tb: OpenTestbed, opts: DemoOptions, say: (s: string) => void): Promise<ModelDeployment> {
  const bars = deployBars(opts.progress && !opts.json);
  try {
    const d = await deployModel(graph, tb, { log: say, deploy: { onProgress: bars.onProgress } });
    return d;
  } finally {
    bars.stop();
  }
}

function printMemory(reports: DeviceReport[], say: (s: string) => void, asTable: boolean): void {
  const rows = reports.map((d) => [d.id, String(d.fragments), kib(d.high_water), kib(d.peak), kib(d.budget), d.high_water <= d.peak && d.peak <= d.budget ? 'ok' : 'OVER']);
  const header = ['device', 'fragments run', 'high-water (device)', 'peak (plan)', 'budget', ''];
  if (asTable) printTable(header, rows);
  else for (const r of rows) say(r.join('  '));
  for (const v of memoryViolations(reports)) say(`  memory violation: ${v}`);
}

async function personDetect(graph: Graph, tb: OpenTestbed, opts: DemoOptions, say: (s: string) => void) {
  say(`\n== person_detect (TFLite Micro's MobileNet v1 0.25, ${graph.ops.length} ops) ==`);
  const single = await singleDevice(graph, tb.profiles);
  say(`  ${single.text}`);
  const dep = await deployWithBars(graph, tb, opts, say);
  say(`  plan: ${dep.plan.stages.length} stages on ${planDevices(dep.plan).length} devices, predicted ${(dep.plan.predicted.makespanS * 1000).toFixed(0)} ms`);
  const expected = JSON.parse(readFileSync(join(ROOT, 'models', 'person_detect', 'tflm-expected.json'), 'utf8')) as Record<string, number[]>;
  const rows: Record<string, unknown>[] = [];
  let matchesTflm = true;
  let matchesOracle = true;
  for (const name of ['person.bmp', 'no_person.bmp']) {
    const input = readInput(join(ROOT, 'models', 'person_detect', name), graph.tensors[graph.inputs[0]], 'raw');
    const r = await dep.executor.infer([input]);
    const out = Array.from(r.outputs[0]);
    const ref = Array.from((await runGraph(oracle, graph, [input]))[0]);
    const tflm = expected[name];
    const sameOracle = out.join() === ref.join();
    const sameTflm = tflm ? out.join() === tflm.join() : out[0] > out[1];
    matchesOracle &&= sameOracle;
    matchesTflm &&= sameTflm;
    const verdict = out[1] > out[0] ? 'person' : 'no person';
    say(
      `  ${name.padEnd(14)} distributed [${out}] ${verdict}; ` +
        (tflm ? `TFLM [${tflm}] ${sameTflm ? 'equal' : 'DIFFERENT'}` : `TFLM asserts output[0] > output[1]: ${sameTflm ? 'holds' : 'FAILS'}`) +
        `; oracle ${sameOracle ? 'equal' : 'DIFFERENT'}; ${r.latencyMs.toFixed(0)} ms`,
    );
    rows.push({ image: name, output: out, tflm: tflm ?? null, latency_ms: r.latencyMs });
  }
  const reports = deviceReports(dep.plan, dep.executor);
  printMemory(reports, say, !opts.json);
  return { images: rows, matches_tflm: matchesTflm, matches_oracle: matchesOracle, single_device: single.text, devices: reports, predicted_ms: dep.plan.predicted.makespanS * 1000 };
}

async function mnistL(graph: Graph, tb: OpenTestbed, opts: DemoOptions, say: (s: string) => void) {
  const data = readSubset(readFileSync(join(ROOT, 'models', 'data', 'mnist-test-500.bin')), 'models/data/mnist-test-500.bin');
  const n = Math.min(opts.images, data.count);
  say(`\n== mnist-l on ${n} MNIST test images ==`);
  const single = await singleDevice(graph, tb.profiles);
  say(`  ${single.text}`);
  const dep = await deployWithBars(graph, tb, opts, say);
  say(`  plan: ${dep.plan.stages.length} stages on ${planDevices(dep.plan).length} devices, predicted ${(dep.plan.predicted.makespanS * 1000).toFixed(0)} ms per image`);
  const inputs: TensorData[][] = Array.from({ length: n }, (_, i) => [image(data, i).slice()]);
  // One image at a time first: the latency the plan predicts (the pipelined run below adds queueing).
  const alone: number[] = [];
  for (let i = 0; i < Math.min(4, n); i++) alone.push((await dep.executor.infer(inputs[i])).latencyMs);
  const aloneMs = percentile(alone.slice(1).sort((a, b) => a - b), 50);
  say(`  one image at a time: ${aloneMs.toFixed(0)} ms measured, ${(dep.plan.predicted.makespanS * 1000).toFixed(0)} ms predicted`);
  const t0 = performance.now();
  let done = 0;
  const results = await dep.executor.inferMany(inputs, 3, () => {
    done++;
    if (!opts.json && process.stderr.isTTY) process.stderr.write(`\r  ${done}/${n} images`);
  });
  const wallS = (performance.now() - t0) / 1000;
  if (!opts.json && process.stderr.isTTY) process.stderr.write('\n');
  let correct = 0;
  let mismatches = 0;
  for (let i = 0; i < n; i++) {
    const out = results[i].outputs[0];
    const ref = (await runGraph(oracle, graph, inputs[i]))[0];
    if (Array.from(out).join() !== Array.from(ref).join()) mismatches++;
    if (argmax(out) === data.labels[i]) correct++;
  }
  const lat = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  const accuracy = correct / n;
  const p50 = percentile(lat, 50);
  const p95 = percentile(lat, 95);
  const throughput = n / wallS;
  say(`  accuracy ${(accuracy * 100).toFixed(1)}% (${correct}/${n}); outputs equal to the oracle's: ${n - mismatches}/${n}`);
  say(`  with up to 3 images in flight: latency p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms; throughput ${throughput.toFixed(1)} images/s`);
  const reports = deviceReports(dep.plan, dep.executor);
  printMemory(reports, say, !opts.json);
  return {
    images: n,
    accuracy,
    mismatches,
    latency_alone_ms: aloneMs,
    latency_p50_ms: p50,
    latency_p95_ms: p95,
    throughput_per_s: throughput,
    predicted_ms: dep.plan.predicted.makespanS * 1000,
    single_device: single.text,
    devices: reports,
  };
}

function argmax(a: TensorData): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}
