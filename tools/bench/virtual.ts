// `npm run bench:virtual [-- --json]`: the virtual-time simulator beside
// the real-time one. Each case is one experiment run (host/lab/run-one.ts)
// executed twice, in real time (device processes over PTYs/TCP, wall clock)
// and in virtual time (in process, virtual clock), and the median latencies
// are printed side by side with their ratio; then the wall time of a
// virtual run of 120 devices. Real-time figures depend on the machine's
// load (printed with them); virtual ones do not.
import { loadavg } from 'node:os';
import { executeRun } from '../../host/lab/run-one.ts';
import { expandRuns, parseExperiment, type RunSpec } from '../../host/lab/spec.ts';

const json = process.argv.includes('--json');
const ENERGY = { nJPerMac: 1.5, nJPerByte: 40, idleMw: 10 };

const gen = (count: number, rate: number, heterogeneity = 0, memory = '64K') => ({
  generate: { count, heterogeneity, memory, speed: 2e7, link: { kind: 'pty', rate, latencyMs: 1 }, energy: ENERGY },
});

/** One run per case, in the given mode. */
function runOf(model: string, testbed: unknown, mode: 'real' | 'virtual', repetitions = 5): RunSpec {
  const spec = parseExperiment({ name: 'bench-virtual', models: model, testbeds: [testbed], mode, repetitions, inputs: 2, runTimeoutS: 600 });
  return expandRuns(spec)[0];
}

const CASES: { name: string; model: string; testbed: unknown }[] = [
  { name: 'mnist-s, 2 devices, 921600 baud', model: 'models/mnist-s.tflite', testbed: gen(2, 92160) },
  { name: 'mnist-s, 4 devices, 921600 baud, heterogeneity 3', model: 'models/mnist-s.tflite', testbed: gen(4, 92160, 3) },
  { name: 'mnist-s, 4 devices, 115200 baud', model: 'models/mnist-s.tflite', testbed: gen(4, 11520) },
  { name: 'mnist-s, testbeds/demo.json (PTY and TCP)', model: 'models/mnist-s.tflite', testbed: { file: 'testbeds/demo.json' } },
  { name: 'person_detect, testbeds/demo.json', model: 'test/fixtures/person_detect/person_detect.tflite', testbed: { file: 'testbeds/demo.json' } },
];

const rows: { case: string; real_ms: number; virtual_ms: number; ratio: number; predicted_ms: number; exact: boolean }[] = [];
for (const c of CASES) {
  const load = loadavg()[0];
  const real = await executeRun(runOf(c.model, c.testbed, 'real'), '.');
  const virt = await executeRun(runOf(c.model, c.testbed, 'virtual'), '.');
  const r = Number(real.row.measured_ms);
  const v = Number(virt.row.measured_ms);
  rows.push({ case: c.name, real_ms: r, virtual_ms: v, ratio: v / r, predicted_ms: Number(virt.row.predicted_ms), exact: real.row.exact === true && virt.row.exact === true });
  if (!json)
    console.log(
      `${c.name.padEnd(52)} real ${r.toFixed(1).padStart(7)} ms   virtual ${v.toFixed(1).padStart(7)} ms   virtual/real ${(v / r).toFixed(3)}   predicted ${Number(virt.row.predicted_ms).toFixed(1)} ms   exact ${rows.at(-1)!.exact}   (load ${load.toFixed(1)})`,
    );
}

// Scale: one process, 120 devices, virtual time.
const big = runOf('models/mnist-l.tflite', gen(120, 92160, 2), 'virtual', 3);
const t0 = performance.now();
const bigRun = await executeRun(big, '.');
const bigWallS = (performance.now() - t0) / 1000;
if (!json)
  console.log(
    `mnist-l on 120 devices in virtual time: ${bigWallS.toFixed(1)} s of wall time for plan, deploy and 3 inferences (${bigRun.row.measured_ms} ms each, virtual; exact ${bigRun.row.exact}; error "${bigRun.row.error}")`,
  );

const ratios = rows.map((r) => r.ratio);
const worst = Math.max(...ratios.map((x) => Math.abs(x - 1)));
const summary = { cases: rows, worst_relative_difference: worst, virtual_120_devices_wall_s: bigWallS, virtual_120_devices_ms: Number(bigRun.row.measured_ms), load_average: loadavg()[0] };
if (json) console.log(JSON.stringify(summary));
else console.log(`largest |virtual/real - 1|: ${(worst * 100).toFixed(1)}%`);
