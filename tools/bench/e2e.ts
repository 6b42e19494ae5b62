// `npm run bench:e2e [-- --json] [-- --inferences N] [-- --straggler]`: the gateway end to end,
// person_detect on the simulated devices of testbeds/demo.json, everything
// measured in this one run (outputs checked against the oracle every time).
//
// 1. Prediction: per strategy that fits demo.json, the median latency of N
//    sequential inferences (after one warm-up) beside the plan's predicted
//    makespan. prediction_error = mean over those plans of
//    |measured - predicted| / measured.
// 2. Speedup: the same devices with every budget x4 ("demo x4"), so that the
//    baselines single, layerwise and equal all fit; microsplit's measured
//    latency against each. On demo.json itself single and equal do not fit.
// 3. Failure: on demo x4 the device holding the most microsplit fragments
//    crashes mid-run; the worst latency of the two inferences that end first
//    after its process exited, over the same plan's clean median, without
//    replication (the executor's watchdog suspects the silent device and
//    re-dispatches to a standby loaded after deploy) and with 2 replicas.
//    A straggler: the same device computing 4x slower, standbys loaded after
//    deploy (free devices holding its fragments pull them), median over clean.
//    `--straggler` runs only this case and the clean run it is measured against.
// 3c. Scaling: person_detect by microsplit on N identical compute-bound
//    devices (20 M MAC/s, 512 KB, TCP at 10 MB/s and 1 MB/s, 0.5 ms), N = 1,
//    2, 4, 8 (1 and 8 at 1 MB/s; with --curve every N from 1 to 8 at both);
//    speedup = measured latency at N=1 over N. At 10 MB/s, where each
//    inference's time goes along its chain of RUNs, measured and predicted
//    (tools/bench/critical-path.ts). `--only scaling` runs only this section;
//    `--mesh` links the devices directly (a testbed mesh group at the same
//    rate and latency), so output rows are forwarded device to device.
// 4. Where microsplit's gap on demo.json goes, from the executor's trace:
//    time between stages (gateway), per-stage excess over the prediction,
//    the agents' own compute time (the simulator holds a RESULT for the
//    modelled compute time after the agent really computed it), bytes and
//    frames on the wire; the same plan with every link latency 0 (what
//    per-frame round trips cost), and with links and devices 1000x faster
//    (the fixed cost of the machinery: what is left is not modelled).
// 5. Boards: person_detect on testbeds/boards-timed.json (QEMU boards held to
//    their stated clocks, a simulated device), predicted beside the median
//    of N measured inferences: prediction_error_boards
//    (tools/bench/boards-prediction.ts). Skipped, and null, without QEMU.
import { loadModel } from '../../host/model/load.ts';
import { readInput } from '../../host/model/inputs.ts';
import { runGraph } from '../../host/model/engine.ts';
import type { Graph, TensorData } from '../../host/model/ir.ts';
import { oracle } from '../../host/model/oracle.ts';
import { fragmentWork } from '../../host/plan/cost.ts';
import type { Plan } from '../../host/plan/plan-file.ts';
import type { DeviceProfile } from '../../host/plan/profiles.ts';
import type { Executor } from '../../host/run/execute.ts';
import { deployModel, makePlan, openTestbed, type OpenTestbed, type PlanChoice, type SessionOptions } from '../../host/run/session.ts';
import { loadTestbed, type FaultSpec, type Testbed } from '../../host/sim/testbed.ts';
import { printTable } from '../../host/cli/table.ts';
import { testbedProfiles } from '../../host/run/testbed-profiles.ts';
import { BUCKETS, measuredBreakdown, predictedBreakdown, type Breakdown } from './critical-path.ts';
import { loadavg } from 'node:os';
import { missingQemuToolchain } from '../../host/sim/qemu.ts';
import { boardsJson, boardsPrediction, printBoardsPrediction } from './boards-prediction.ts';

const MODEL = 'test/fixtures/person_detect/person_detect.tflite';
const IMAGES = ['test/fixtures/person_detect/person_input_int8.bin', 'test/fixtures/person_detect/no_person_input_int8.bin'];
const DEMO = 'testbeds/demo.json';
const ROOMY = 4;
const BASELINES = ['single', 'layerwise', 'equal'] as const;

const json = process.argv.includes('--json');
const inferencesArg = process.argv.indexOf('--inferences');
const N = inferencesArg >= 0 ? Number(process.argv[inferencesArg + 1]) : 5;
if (!Number.isInteger(N) || N < 1) throw new Error(`--inferences must be a positive integer, got ${process.argv[inferencesArg + 1]}`);

const demo = loadTestbed(DEMO);
const roomy: Testbed = { ...demo, name: `demo x${ROOMY}`, devices: demo.devices.map((d) => ({ ...d, memory: d.memory * ROOMY })) };
const noLatency: Testbed = { ...demo, name: 'demo, link latency 0', devices: demo.devices.map((d) => ({ ...d, link: { ...d.link, latencyMs: 0 } })) };
const scaled = (x: number | undefined) => (x === undefined ? undefined : x * 1000);
const fast: Testbed = {
  ...noLatency,
  name: 'demo, latency 0, 1000x faster',
  devices: noLatency.devices.map((d) => ({
    ...d,
    speed: d.speed && (Object.fromEntries(Object.entries(d.speed).map(([k, v]) => [k, scaled(v)])) as typeof d.speed),
    link: { ...d.link, rate: d.link.rate * 1000 },
  })),
};

const graph = await loadModel(MODEL);
const inputs = IMAGES.map((f) => readInput(f, graph.tensors[graph.inputs[0]]));
const bytes = (d: TensorData) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
const expected = await Promise.all(inputs.map(async (x) => bytes((await runGraph(oracle, graph, [x]))[0])));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const ms = (x: number) => x.toFixed(1);

interface Run {
  plan: Plan;
  executor: Executor;
  /** Latency of each inference after the warm-up, ms. */
  latencies: number[];
  /** When each of those inferences ended (performance.now()). */
  ends: number[];
  /** Each of those inferences' index, start and end on the executor's trace clock (ms). */
  spans: { index: number; begin: number; finish: number }[];
  /** The agents' own compute time per inference, ms, summed over devices. */
  agentComputeMs: number;
  /** Wire bytes and frames both ways per measured inference, over all devices. */
  wireBytes: number;
  frames: number;
}

/** Runs inference `i` and checks its output against the oracle's. */
async function inferChecked(executor: Executor, i: number): Promise<number> {
  const r = await executor.infer([inputs[i % inputs.length]], i);
  if (!bytes(r.outputs[0]).equals(expected[i % inputs.length])) throw new Error(`${executor.plan.strategy.name}: inference ${i} differs from the oracle`);
  return r.latencyMs;
}

/**
 * Sums the agents' compute time (RESULT computeUs) over every RUN of the
 * testbed's clients: a measurement tap around DeviceClient.run.
 */
function tapCompute(open: OpenTestbed): { us: number } {
  const total = { us: 0 };
  for (const c of open.clients.values()) {
    const run = c.run.bind(c);
    c.run = async (...args) => {
      const r = await run(...args);
      total.us += r.computeUs;
      return r;
    };
  }
  return total;
}

function wire(open: OpenTestbed): { bytes: number; frames: number } {
  let bytes = 0;
  let frames = 0;
  for (const c of open.clients.values()) {
    bytes += c.stats.bytesIn + c.stats.bytesOut;
    frames += c.stats.framesIn + c.stats.framesOut;
  }
  return { bytes, frames };
}

/**
 * Deploys `plan`, runs one warm-up, then `count` inferences, and more up to
 * `limit` until `stop(executor)`; `onEnds` sees the growing list of end times.
 */
async function measure(
  open: OpenTestbed,
  plan: Plan,
  count: number,
  stop = (_: Executor) => true,
  limit = count,
  onEnds?: (ends: number[]) => void,
  opts: SessionOptions = {},
): Promise<Run> {
  const { executor } = await deployModel(graph, open, opts, plan);
  const compute = tapCompute(open);
  await inferChecked(executor, 0);
  const before = wire(open);
  const computeBefore = compute.us;
  const latencies: number[] = [];
  const ends: number[] = [];
  const spans: Run['spans'] = [];
  onEnds?.(ends);
  for (let i = 1; i <= limit && (i <= count || !stop(executor)); i++) {
    const begin = performance.now() - executor.t0;
    latencies.push(await inferChecked(executor, i));
    ends.push(performance.now());
    spans.push({ index: i, begin, finish: ends[ends.length - 1] - executor.t0 });
  }
  const after = wire(open);
  const n = latencies.length;
  return { plan, executor, latencies, ends, spans, agentComputeMs: (compute.us - computeBefore) / 1000 / n, wireBytes: (after.bytes - before.bytes) / n, frames: (after.frames - before.frames) / n };
}

async function planOrWhy(profiles: DeviceProfile[], choice: PlanChoice): Promise<Plan | string> {
  try {
    return await makePlan(graph, profiles, choice);
  } catch (e) {
    return (e as Error).message;
  }
}

/** Runs `body` on the testbed's running devices, their links measured unless `measureLinks` is false. */
async function withTestbed<T>(testbed: Testbed, body: (open: OpenTestbed) => Promise<T>, measureLinks = true): Promise<T> {
  const open = await openTestbed(testbed, undefined, measureLinks);
  try {
    return await body(open);
  } finally {
    await open.close();
  }
}

interface Row {
  set: string;
  strategy: string;
  predictedMs?: number;
  measuredMs?: number;
  run?: Run;
  why?: string;
}

/** Plans every strategy for the testbed's devices and measures each that fits, on one set of device processes. */
async function cleanRuns(testbed: Testbed, strategies: string[]): Promise<Row[]> {
  return withTestbed(testbed, async (open) => {
    // Planned for the running devices: link latencies as measured (host/run/measure-links.ts).
    const plans = await Promise.all(strategies.map((s) => planOrWhy(open.profiles, { strategy: s, replicas: s === 'replicated' ? 2 : undefined })));
    const rows: Row[] = [];
    for (const [k, s] of strategies.entries()) {
      const p = plans[k];
      if (typeof p === 'string') {
        rows.push({ set: testbed.name!, strategy: s, why: p });
        continue;
      }
      const run = await measure(open, p, N);
      rows.push({ set: testbed.name!, strategy: s, predictedMs: p.predicted.makespanS * 1000, measuredMs: median(run.latencies), run });
    }
    return rows;
  });
}

/** Fragments per inference each device runs under `plan`. */
function fragmentsPerDevice(plan: Plan): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of plan.stages) for (const f of s.fragments) for (const d of f.devices) m.set(d, (m.get(d) ?? 0) + 1);
  return m;
}

interface FailureRun {
  strategy: string;
  device: string;
  /** Worst latency of the two inferences that ended first after the crash, ms; undefined when it never crashed. */
  failureMs?: number;
  cleanMs: number;
  /** Whether the executor noticed (marked the device unhealthy) before the run ended. */
  noticed: boolean;
}

/**
 * `plan` on demo x4 with `device` crashing after `afterRuns` RESULTs (the
 * warm-up's included); runs until two inferences have ended after the crash.
 */
async function failureRun(plan: Plan, device: string, afterRuns: number, cleanMs: number): Promise<FailureRun> {
  const faults: FaultSpec = { dropP: 0, corruptP: 0, crashAfterRuns: afterRuns };
  const testbed: Testbed = { ...roomy, devices: roomy.devices.map((d) => (d.id === device ? { ...d, faults } : d)) };
  return withTestbed(testbed, async (open) => {
    let crashedAt = Infinity;
    void open.testbed.devices.find((d) => d.id === device)!.exited.then(() => (crashedAt = performance.now()));
    let ends: number[] = [];
    const endedAfterCrash = () => ends.filter((t) => t >= crashedAt).length;
    const run = await measure(open, plan, 1, () => endedAfterCrash() >= 2, N + 6, (e) => (ends = e), { standbys: true });
    const hit = run.ends.map((t, i) => (t >= crashedAt ? run.latencies[i] : NaN)).filter((x) => !Number.isNaN(x)).slice(0, 2);
    return { strategy: plan.strategy.name, device, failureMs: hit.length ? Math.max(...hit) : undefined, cleanMs, noticed: run.executor.unhealthy.has(device) };
    // The plan is given, so no link probes: their RUNs would count towards crashAfterRuns and crash the device before deploy.
  }, false);
}

interface Gap {
  stages: number;
  fragments: number;
  measuredMs: number;
  predictedMs: number;
  /** Σ over stages of the measured span (first fragment sent to last result back). */
  stageSpanMs: number;
  /** The rest of each inference: gateway work between stages (cutting tiles, stitching, gateway ops). */
  betweenStagesMs: number;
  /** Σ over stages of (measured span - predicted span). */
  stageExcessMs: number;
  /** The agents' own compute time, which the simulator adds to the modelled one. */
  agentComputeMs: number;
  /** Tensor bytes the cost model moves per inference, and what crossed the links. */
  modelBytes: number;
  wireBytes: number;
  frames: number;
}

function gapOf(run: Run, graph: Graph): Gap {
  const plan = run.plan;
  const deviceStages = plan.stages.filter((s) => s.where !== 'gateway');
  const measuredInferences = new Set(run.latencies.map((_, i) => i + 1));
  let spanSum = 0;
  for (const i of measuredInferences) {
    for (const s of deviceStages) {
      const recs = run.executor.trace.records.filter((r) => r.inference === i && r.stage === s.index && r.outcome === 'ok');
      spanSum += Math.max(...recs.map((r) => r.end)) - Math.min(...recs.map((r) => r.start));
    }
  }
  const measuredMs = run.latencies.reduce((a, b) => a + b, 0) / run.latencies.length;
  const stageSpanMs = spanSum / measuredInferences.size;
  const predictedStagesMs = deviceStages.reduce((a, s) => a + (s.predicted.end - s.predicted.start) * 1000, 0);
  const frags = deviceStages.flatMap((s) => s.fragments);
  const modelBytes = frags.reduce((a, f) => {
    const w = fragmentWork(graph, f.ops);
    return a + (w.inBytes + w.outBytes) * f.devices.length;
  }, 0);
  return {
    stages: deviceStages.length,
    fragments: frags.length,
    measuredMs,
    predictedMs: plan.predicted.makespanS * 1000,
    stageSpanMs,
    betweenStagesMs: measuredMs - stageSpanMs,
    stageExcessMs: stageSpanMs - predictedStagesMs,
    agentComputeMs: run.agentComputeMs,
    modelBytes,
    wireBytes: run.wireBytes,
    frames: run.frames,
  };
}

/** The device running the most fragments per inference under `plan` (ties by name): the one the failure and straggler cases hit. */
function busiest(plan: Plan): string {
  return [...fragmentsPerDevice(plan)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
}

// --- 3c: compute-bound testbeds of N identical devices ----------------------------
/** With --mesh, the identical devices also reach each other directly at the same rate and latency, and forward output rows device to device. */
const meshed = process.argv.includes('--mesh');
/** N devices of 20 M MAC/s and 512 KB on loopback TCP at `rate` bytes/s and 0.5 ms. */
function identical(n: number, rate: number): Testbed {
  const device = (i: number) => ({ id: `n${i}`, memory: 512 * 1024, speed: { default: 20e6 }, link: { kind: 'tcp' as const, rate, latencyMs: 0.5 } });
  const devices = Array.from({ length: n }, (_, i) => device(i));
  const mesh = meshed && n > 1 ? { mesh: [{ devices: devices.map((d) => d.id), rate, latencyMs: 0.5 }] } : {};
  return { name: `${n} x 20 M MAC/s, ${rate / 1e6} MB/s${mesh.mesh ? ', mesh' : ''}`, seed: 1, devices, ...mesh };
}

/** Mean over a run's measured inferences of where each one's latency went (tools/bench/critical-path.ts), and the model's figures for the plan. */
function breakdownOf(run: Run, testbed: Testbed): { measured: Breakdown; predicted: Breakdown } {
  const nominals = new Map(testbedProfiles(testbed).map((p) => [p.id, p]));
  const each = run.spans.map((s) => measuredBreakdown(graph, run.plan, run.executor.trace.records, s.index, s.begin, s.finish, nominals));
  const mean = Object.fromEntries(Object.keys(each[0]).map((k) => [k, each.reduce((a, b) => a + b[k as keyof Breakdown], 0) / each.length])) as unknown as Breakdown;
  return { measured: mean, predicted: predictedBreakdown(graph, run.plan, nominals) };
}

/**
 * person_detect by microsplit on N identical devices, N = 1, 2, 4, 8 at
 * 10 MB/s and N = 1, 8 at 1 MB/s (every N from 1 to 8 at both with
 * `--curve`): the table, and where each 10 MB/s inference's time goes.
 */
async function scalingSection() {
  const curve = process.argv.includes('--curve');
  const sizes = curve ? [1, 2, 3, 4, 5, 6, 7, 8] : [1, 2, 4, 8];
  const scaling: { n: number; rate: number; testbed: Testbed; row: Row }[] = [];
  for (const rate of [10e6, 1e6])
    for (const n of curve || rate === 10e6 ? sizes : [1, 8]) {
      const testbed = identical(n, rate);
      scaling.push({ n, rate, testbed, row: (await cleanRuns(testbed, ['microsplit']))[0] });
    }
  const latencyOf = (n: number, rate: number) => scaling.find((x) => x.n === n && x.rate === rate)?.row.measuredMs;
  const speedupN = (n: number, rate = 10e6) => {
    const one = latencyOf(1, rate);
    const many = latencyOf(n, rate);
    return one === undefined || many === undefined ? null : one / many;
  };
  console.log(`\nperson_detect, microsplit, on N identical devices (20 M MAC/s, 512 KB, loopback TCP, 0.5 ms); ${loadNow()}`);
  printTable(
    ['devices', 'predicted ms', 'measured ms', 'speedup over N=1 (measured)', 'stages', 'fragments'],
    scaling.map(({ n, rate, row }) =>
      row.run
        ? [row.set, ms(row.predictedMs!), ms(row.measuredMs!), speedupN(n, rate)!.toFixed(2), String(row.run.plan.stages.length), String(row.run.plan.stages.reduce((a, s) => a + s.fragments.length, 0))]
        : [row.set, 'does not fit', '', '', '', row.why!.slice(0, 60)],
    ),
  );
  const broken = scaling.filter((x) => x.rate === 10e6 && x.row.run).map((x) => ({ n: x.n, ...breakdownOf(x.row.run!, x.testbed) }));
  console.log('\nwhere each inference goes at 10 MB/s, ms along the chain of RUNs that ended last, measured (mean) / predicted (tools/bench/critical-path.ts)');
  printTable(
    ['N', 'total', ...BUCKETS, 'RUNs on the chain (waiting for their device)', 'devices idle'],
    broken.map(({ n, measured: m, predicted: p }) => [
      String(n),
      `${ms(m.total)} / ${ms(p.total)}`,
      ...BUCKETS.map((k) => `${ms(m[k])} / ${ms(p[k])}`),
      `${m.runs.toFixed(1)} (${m.laneBound.toFixed(1)}) / ${p.runs} (${p.laneBound})`,
      `${(m.idle * 100).toFixed(0)}% / ${(p.idle * 100).toFixed(0)}%`,
    ]),
  );
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    speedupN,
    json: {
      scaling_breakdown_ms: Object.fromEntries(
        broken.map(({ n, measured, predicted }) => [`n${n}`, { measured: Object.fromEntries(Object.entries(measured).map(([k, v]) => [k, round(v)])), predicted: Object.fromEntries(Object.entries(predicted).map(([k, v]) => [k, round(v)])) }]),
      ),
    },
  };
}

const roundOrNull = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

/** The load average now, to print beside real-time figures. */
function loadNow(): string {
  return `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
}

if (process.argv.includes('--only')) {
  const what = process.argv[process.argv.indexOf('--only') + 1];
  if (what !== 'scaling') throw new Error(`--only takes "scaling", got ${what}`);
  const { speedupN, json: extra } = await scalingSection();
  if (json)
    console.log(
      JSON.stringify({
        inferences: N,
        speedup_vs_single_n2: roundOrNull(speedupN(2)),
        speedup_vs_single_n4: roundOrNull(speedupN(4)),
        speedup_vs_single_n8: roundOrNull(speedupN(8)),
        speedup_vs_single_n8_1mbs: roundOrNull(speedupN(8, 1e6)),
        load_average: loadavg(),
        ...extra,
      }),
    );
  process.exit(0);
}

if (process.argv.includes('--straggler')) {
  const [clean] = await cleanRuns(roomy, ['microsplit']);
  const device = busiest(clean.run!.plan);
  const slowMs = await stragglerMs(clean.run!.plan, device);
  const ratio = slowMs / clean.measuredMs!;
  console.log(`${roomy.name}, microsplit: clean ${ms(clean.measuredMs!)} ms; ${device} computing 4x slower, standbys loaded: ${ms(slowMs)} ms, ${ratio.toFixed(2)}x clean`);
  if (json) console.log(JSON.stringify({ inferences: N, straggler_latency_over_clean: Math.round(ratio * 1000) / 1000 }));
  process.exit(0);
}

// --- 1 and 2: clean runs -------------------------------------------------------
const t0 = performance.now();
const demoRows = await cleanRuns(demo, ['microsplit', ...BASELINES]);
const roomyRows = await cleanRuns(roomy, ['microsplit', ...BASELINES, 'replicated']);
const variantRows = [...(await cleanRuns(noLatency, ['microsplit'])), ...(await cleanRuns(fast, ['microsplit']))];

const relError = (r: Row) => Math.abs(r.measuredMs! - r.predictedMs!) / r.measuredMs!;
const measuredRows = [...demoRows, ...roomyRows].filter((r) => r.run);
const predictionError = measuredRows.reduce((a, r) => a + relError(r), 0) / measuredRows.length;
const find = (rows: Row[], s: string) => rows.find((r) => r.strategy === s)!;
/** Measured latency of `s` over microsplit's, among the rows of one device set; null when `s` does not fit. */
const speedup = (rows: Row[], s: string) => {
  const base = find(rows, s);
  return base.run ? base.measuredMs! / find(rows, 'microsplit').measuredMs! : null;
};

console.log(`person_detect, ${N} inferences per plan after one warm-up, outputs equal to the oracle's; latency = median`);
printTable(
  ['devices', 'strategy', 'predicted ms', 'measured ms', '|error|', 'microsplit speedup'],
  [demoRows, roomyRows, variantRows].flatMap((rows) =>
    rows.map((r) =>
      r.run
        ? [r.set, r.strategy, ms(r.predictedMs!), ms(r.measuredMs!), `${(relError(r) * 100).toFixed(0)}%`, r.strategy === 'microsplit' ? '' : `${speedup(rows, r.strategy)!.toFixed(2)}x`]
        : [r.set, r.strategy, 'does not fit', '', '', r.why!.slice(0, 60)],
    ),
  ),
);

// --- 3: one failure -------------------------------------------------------------
const roomyMicro = find(roomyRows, 'microsplit');
const roomyRepl = find(roomyRows, 'replicated');
const victim = busiest(roomyMicro.run!.plan);
const k = fragmentsPerDevice(roomyMicro.run!.plan).get(victim)!;
// Unreplicated RESULTs are counted exactly: the crash comes halfway through the first measured inference.
const unreplicated = await failureRun(roomyMicro.run!.plan, victim, k + Math.ceil(k / 2), roomyMicro.measuredMs!);
const kRep = roomyRepl.run ? (fragmentsPerDevice(roomyRepl.run.plan).get(victim) ?? 0) : 0;
// A replica's RESULTs count only when it answers before its rival: it crashes within a few inferences.
const replicated = roomyRepl.run && kRep > 0 ? await failureRun(roomyRepl.run.plan, victim, kRep + Math.ceil(kRep / 2), roomyRepl.measuredMs!) : undefined;

console.log(`\none crash on ${roomy.name}: ${victim} (${k} microsplit fragments per inference) exits mid-run`);
printTable(
  ['plan', 'clean ms', 'worst of the 2 inferences after the crash, ms', 'over clean', 'device marked unhealthy'],
  [unreplicated, replicated].map((f, i) =>
    !f
      ? [i === 0 ? 'microsplit' : 'replicated', 'not run: the plan does not use the device or does not fit', '', '', '']
      : [f.strategy, ms(f.cleanMs), f.failureMs === undefined ? 'the crash did not fire' : ms(f.failureMs), f.failureMs === undefined ? '' : `${(f.failureMs / f.cleanMs).toFixed(2)}x`, f.noticed ? 'yes' : 'not yet'],
  ),
);

// --- 3b: one straggler ---------------------------------------------------------
/**
 * The same plan with `device` computing 4x slower from the start (testbed
 * `slowdown` fault) and a standby copy of each fragment loaded where there is
 * room, which free devices pull from the slow one: median latency.
 */
async function stragglerMs(plan: Plan, device: string): Promise<number> {
  const faults: FaultSpec = { dropP: 0, corruptP: 0, slowdown: { atMs: 0, factor: 4 } };
  const testbed: Testbed = { ...roomy, devices: roomy.devices.map((d) => (d.id === device ? { ...d, faults } : d)) };
  return withTestbed(testbed, async (open) => median((await measure(open, plan, N, undefined, N, undefined, { standbys: true })).latencies));
}
const straggler = await stragglerMs(roomyMicro.run!.plan, victim);
console.log(`\none straggler on ${roomy.name}: ${victim} computes 4x slower, standbys loaded: ${ms(straggler)} ms, ${(straggler / roomyMicro.measuredMs!).toFixed(2)}x clean`);

// --- 3c ---------------------------------------------------------------------------
const { speedupN, json: scalingJson } = await scalingSection();

// --- 4: where the gap goes ------------------------------------------------------
const gaps = [find(demoRows, 'microsplit'), ...variantRows].map((r) => ({ set: r.set, gap: gapOf(r.run!, graph) }));
console.log('\nmicrosplit on demo.json and two variants: where measured and predicted part (per inference, mean)');
printTable(
  ['devices', 'stages', 'fragments', 'predicted ms', 'measured ms', 'stage spans ms', 'excess in stages ms', 'agents computing ms', 'between stages ms', 'model bytes', 'wire bytes', 'frames'],
  gaps.map(({ set, gap: g }) => [
    set,
    String(g.stages),
    String(g.fragments),
    ms(g.predictedMs),
    ms(g.measuredMs),
    ms(g.stageSpanMs),
    ms(g.stageExcessMs),
    ms(g.agentComputeMs),
    ms(g.betweenStagesMs),
    String(g.modelBytes),
    String(Math.round(g.wireBytes)),
    String(Math.round(g.frames)),
  ]),
);
const [withLat, zeroLat, floor] = gaps.map((x) => x.gap);
console.log(
  `per stage: ${ms(withLat.stageExcessMs / withLat.stages)} ms over the prediction inside, ${ms(withLat.betweenStagesMs / withLat.stages)} ms between stages; ` +
    `link latency 0 removes ${ms(withLat.stageExcessMs - zeroLat.stageExcessMs)} ms of the excess in stages; ` +
    `1000x faster devices and links still take ${ms(floor.measuredMs)} ms (${ms(floor.measuredMs / floor.fragments)} ms per fragment)`,
);
// --- 5: boards of a known clock ---------------------------------------------------
const noQemu = missingQemuToolchain();
const boards = noQemu ? undefined : await boardsPrediction(graph, IMAGES, N);
if (!boards) console.log(`\nboards not measured: ${noQemu}`);
else printBoardsPrediction(boards);
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);

if (json) {
  const round = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x * 1000) / 1000);
  const micro = find(demoRows, 'microsplit');
  console.log(
    JSON.stringify({
      inferences: N,
      prediction_error: round(predictionError),
      prediction_error_microsplit_demo: round(relError(micro)),
      microsplit_demo_predicted_ms: round(micro.predictedMs),
      microsplit_demo_measured_ms: round(micro.measuredMs),
      speedup_vs_single: round(speedup(roomyRows, 'single')),
      speedup_vs_layerwise: round(speedup(roomyRows, 'layerwise')),
      speedup_vs_equal: round(speedup(roomyRows, 'equal')),
      speedup_vs_layerwise_demo: round(speedup(demoRows, 'layerwise')),
      failure_latency_replicated_over_clean: round(replicated?.failureMs === undefined ? null : replicated.failureMs / replicated.cleanMs),
      failure_latency_unreplicated_over_clean: round(unreplicated.failureMs === undefined ? null : unreplicated.failureMs / unreplicated.cleanMs),
      straggler_latency_over_clean: round(straggler / roomyMicro.measuredMs!),
      speedup_vs_single_n2: round(speedupN(2)),
      speedup_vs_single_n4: round(speedupN(4)),
      speedup_vs_single_n8: round(speedupN(8)),
      speedup_vs_single_n8_1mbs: round(speedupN(8, 1e6)),
      ...scalingJson,
      gap_between_stages_ms: round(withLat.betweenStagesMs),
      gap_in_stages_ms: round(withLat.stageExcessMs),
      gap_in_stages_latency0_ms: round(zeroLat.stageExcessMs),
      agents_computing_ms: round(withLat.agentComputeMs),
      floor_1000x_ms: round(floor.measuredMs),
      wire_bytes_per_inference: Math.round(withLat.wireBytes),
      model_bytes_per_inference: withLat.modelBytes,
      // null when QEMU or the ARM toolchain is missing.
      ...boardsJson(boards),
    }),
  );
}
