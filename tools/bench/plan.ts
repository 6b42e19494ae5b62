// `npm run bench:plan [-- --json] [-- --quick]`: the planner on a scenario
// matrix (models x links x lambda x device count with heterogeneity level),
// microsplit against the optimum (where computable) and the baselines, all
// predicted by the same cost model; then the planner's run time for 100
// devices x 60 layers. Ratios are measured side by side in this one run.
// With --json the last line is one JSON object: gap_to_optimal_max,
// gap_to_optimal_mean (makespan ratios at lambda 0, 1.0 = optimal),
// objective_gap_max (all lambdas), speedup_vs_<baseline> and
// energy_ratio_vs_<baseline> (geometric means over the scenarios both plan;
// speedup_vs_<baseline>_lambda0 over those at lambda 0),
// infeasible_<strategy> counts, planner_ms_100x60 (wall) and planner_cpu_ms_100x60.
import { loadModel } from '../../host/model/load.ts';
import type { Graph } from '../../host/model/ir.ts';
import type { PlanRequest } from '../../host/plan/assemble.ts';
import { InfeasibleError } from '../../host/plan/memory.ts';
import { graphHash, type Plan } from '../../host/plan/plan-file.ts';
import { OPTIMAL_MAX_DEVICES, OPTIMAL_MAX_LAYERS } from '../../host/plan/strategies/optimal.ts';
import { strategies } from '../../host/plan/strategies/index.ts';
import { buildModel, deepModelSpec, syntheticDevices, LINKS, type LinkClass, type ModelSpec } from '../../host/plan/synthetic.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');

const smallCnn: ModelSpec = {
  name: 'small-cnn',
  seed: 3,
  input: [28, 28, 1],
  layers: [
    { kind: 'conv', out: 8, k: 3 },
    { kind: 'maxpool', k: 2, stride: 2 },
    { kind: 'conv', out: 16, k: 3 },
    { kind: 'maxpool', k: 2, stride: 2 },
    { kind: 'conv', out: 16, k: 3, stride: 2 },
    { kind: 'reshape' },
    { kind: 'fc', units: 10 },
    { kind: 'softmax' },
  ],
};

const models: [string, () => Promise<Graph>][] = [
  ['small-cnn', async () => buildModel(smallCnn)],
  ['person_detect', () => loadModel('test/fixtures/person_detect/person_detect.tflite')],
  ['deep-40', async () => buildModel(deepModelSpec(40, 1, 32))],
];
const links = Object.keys(LINKS) as LinkClass[];
const lambdas = [0, 0.5, 1];
/** Device count with its heterogeneity level: the spread widens with the testbed. */
const testbeds: [number, number][] = quick ? [[2, 0], [6, 3]] : [[2, 0], [4, 1], [6, 2], [8, 3], [12, 4], [16, 5]];
const baselines = ['single', 'layerwise', 'equal', 'ftp-grid'];

interface Row {
  model: string;
  link: LinkClass;
  lambda: number;
  devices: number;
  level: number;
  plans: Record<string, Plan | null>;
}

async function tryPlan(name: string, req: PlanRequest): Promise<Plan | null> {
  try {
    return await strategies[name].plan(req);
  } catch (e) {
    if (e instanceof InfeasibleError) return null;
    throw e;
  }
}

const geomean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

const rows: Row[] = [];
const t0 = performance.now();
for (const [model, load] of models) {
  const graph = await load();
  for (const link of links)
    for (const lambda of lambdas)
      for (const [n, level] of testbeds) {
        const devices = syntheticDevices(n, level, link, 100 * n + level);
        const req: PlanRequest = { graph, model: { name: model, sha256: graphHash(graph) }, devices, lambda, suggestFix: false };
        const plans: Record<string, Plan | null> = {};
        for (const s of ['microsplit', ...baselines]) plans[s] = await tryPlan(s, req);
        if (n <= OPTIMAL_MAX_DEVICES && graph.ops.length <= OPTIMAL_MAX_LAYERS) plans.optimal = await tryPlan('optimal', req);
        rows.push({ model, link, lambda, devices: n, level, plans });
      }
  if (!json) console.log(`${model}: ${rows.filter((r) => r.model === model).length} scenarios planned (${((performance.now() - t0) / 1000).toFixed(0)} s so far)`);
}

// Per scenario table.
if (!json) {
  console.log('\nmodel          link         lambda devices level  makespan ms  /optimal  vs single  vs layerwise  vs equal  vs ftp-grid');
  for (const r of rows) {
    const ms = r.plans.microsplit;
    const ratio = (b: string) => (ms && r.plans[b] ? r.plans[b]!.predicted.makespanS / ms.predicted.makespanS : NaN);
    const opt = ms && r.plans.optimal ? ms.predicted.makespanS / r.plans.optimal.predicted.makespanS : NaN;
    console.log(
      [
        r.model.padEnd(14),
        r.link.padEnd(12),
        String(r.lambda).padStart(6),
        String(r.devices).padStart(7),
        String(r.level).padStart(5),
        (ms ? (ms.predicted.makespanS * 1e3).toFixed(2) : 'infeasible').padStart(12),
        f2(opt).padStart(9),
        ...baselines.map((b, i) => f2(ratio(b)).padStart([10, 13, 9, 12][i])),
      ].join(' '),
    );
  }
}

// Summary.
const both = (b: string) => rows.filter((r) => r.plans.microsplit && r.plans[b]);
const summary: Record<string, number> = {};
const withOpt = rows.filter((r) => r.plans.microsplit && r.plans.optimal);
const gaps = withOpt.filter((r) => r.lambda === 0).map((r) => r.plans.microsplit!.predicted.makespanS / r.plans.optimal!.predicted.makespanS);
const objGaps = withOpt.map((r) => r.plans.microsplit!.predicted.objective / r.plans.optimal!.predicted.objective);
summary.scenarios = rows.length;
summary.optimal_scenarios = withOpt.length;
summary.gap_to_optimal_max = Math.max(...gaps);
summary.gap_to_optimal_mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
summary.objective_gap_max = Math.max(...objGaps);
for (const b of baselines) {
  const key = b.replace('-', '_');
  summary[`speedup_vs_${key}`] = geomean(both(b).map((r) => r.plans[b]!.predicted.makespanS / r.plans.microsplit!.predicted.makespanS));
  summary[`energy_ratio_vs_${key}`] = geomean(both(b).map((r) => r.plans[b]!.predicted.energyJ / r.plans.microsplit!.predicted.energyJ));
  summary[`infeasible_${key}`] = rows.filter((r) => !r.plans[b]).length;
  // At lambda 0 every strategy minimizes latency alone: the like-for-like makespan comparison.
  summary[`speedup_vs_${key}_lambda0`] = geomean(both(b).filter((r) => r.lambda === 0).map((r) => r.plans[b]!.predicted.makespanS / r.plans.microsplit!.predicted.makespanS));
}
summary.infeasible_microsplit = rows.filter((r) => !r.plans.microsplit).length;

// Planner run time at scale: 100 devices x 60 layers (median of 3 after a warm-up run).
const big = buildModel(deepModelSpec(60, 2, 16));
const bigReq: PlanRequest = { graph: big, model: { name: 'deep-60', sha256: graphHash(big) }, devices: syntheticDevices(100, 3, 'wifi-1MBps', 9), lambda: 0 };
// Wall time, and this process's CPU time (what the wall time is on an idle machine; CI machines are shared).
const wall: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < 4; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  await strategies.microsplit.plan(bigReq);
  const used = process.cpuUsage(c);
  if (i > 0) {
    wall.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
  }
}
summary.planner_ms_100x60 = wall.sort((a, b) => a - b)[1];
summary.planner_cpu_ms_100x60 = cpu.sort((a, b) => a - b)[1];

if (!json) {
  console.log(`\n${rows.length} scenarios; optimum computed in ${withOpt.length} (small-cnn, <= ${OPTIMAL_MAX_DEVICES} devices, <= ${OPTIMAL_MAX_LAYERS} layers)`);
  console.log(`microsplit / optimal makespan at lambda 0: max ${f2(summary.gap_to_optimal_max)}, mean ${f2(summary.gap_to_optimal_mean)} (goal <= 1.05); objective ratio max over all lambdas ${f2(summary.objective_gap_max)}`);
  console.log('baseline     speedup (geomean)  at lambda 0  energy ratio  infeasible');
  for (const b of baselines) {
    const key = b.replace('-', '_');
    console.log(
      `${b.padEnd(12)} ${f2(summary[`speedup_vs_${key}`]).padStart(17)}  ${f2(summary[`speedup_vs_${key}_lambda0`]).padStart(11)}  ${f2(summary[`energy_ratio_vs_${key}`]).padStart(12)}  ${String(summary[`infeasible_${key}`]).padStart(10)} / ${rows.length}`,
    );
  }
  console.log(`microsplit infeasible: ${summary.infeasible_microsplit} / ${rows.length}`);
  console.log(`planner run time, 100 devices x 60 layers: ${summary.planner_ms_100x60.toFixed(0)} ms wall, ${summary.planner_cpu_ms_100x60.toFixed(0)} ms CPU (goal < 1000)`);
}
if (json) console.log(JSON.stringify(summary));
