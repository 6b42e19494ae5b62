// One run of an experiment: plan the model for the run's devices, inject its
// faults into the devices the plan leans on most, start the devices (real
// processes, or in process on the virtual clock), deploy, run the
// repetitions, compare every output with the oracle, and sum it all up as
// one CSV row plus the detail rows the report draws (per device, per
// fragment of the first inference, per stage).
import { basename, extname } from 'node:path';
import type { DeviceClient } from '../link/client.ts';
import { runGraph } from '../model/engine.ts';
import { numElements, type Graph, type TensorData } from '../model/ir.ts';
import { loadModel } from '../model/load.ts';
import { oracle } from '../model/oracle.ts';
import type { Plan } from '../plan/plan-file.ts';
import { parseBytes } from '../plan/profiles.ts';
import { seededRandom } from '../random.ts';
import { deviceReports, percentile } from '../run/report.ts';
import { deployModel, makePlan, openTestbed, type OpenTestbed } from '../run/session.ts';
import { testbedProfiles } from '../run/testbed-profiles.ts';
import type { TraceRecord } from '../run/trace.ts';
import type { FaultSpec, Testbed } from '../sim/testbed.ts';
import { parseTestbed } from '../sim/testbed.ts';
import { specPath, testbedOf, type Injection, type RunSpec } from './spec.ts';
import { openVirtualTestbed, withVirtualClock } from './virtual.ts';

export type Cell = string | number | boolean;
export type Row = Record<string, Cell>;

export interface RunOutcome {
  /** The run's row of the results CSV. */
  row: Row;
  /** One row per device: memory and busy time. */
  devices: Row[];
  /** One row per fragment run of the first inference, measured beside predicted. */
  trace: Row[];
  /** One row per stage: tile bytes to and from the devices per inference. */
  stages: Row[];
}

/** The columns every results row has, in order (parameters, then measures). */
export const RESULT_COLUMNS = [
  'run_id', 'experiment', 'mode', 'model', 'testbed', 'devices', 'heterogeneity', 'link_kind', 'link_rate',
  'device_memory', 'device_speed', 'strategy', 'replicas', 'epsilon', 'lambda', 'faults', 'failed_devices', 'inputs', 'repetitions', 'seed',
  'predicted_ms', 'measured_ms', 'measured_p95_ms', 'predicted_energy_mj', 'measured_energy_mj',
  'bytes_on_wire', 'bytes_retransmitted', 'max_peak_over_budget', 'memory_ok', 'retries', 'failures_survived',
  'inferences_ok', 'exact', 'exact_share', 'cost_model_error', 'wall_ms', 'error',
] as const;

export const DEVICE_COLUMNS = ['run_id', 'device', 'budget', 'plan_peak', 'high_water', 'fragments', 'busy_ms', 'predicted_busy_ms'] as const;
export const TRACE_COLUMNS = ['run_id', 'device', 'fragment', 'stage', 'start_ms', 'end_ms', 'predicted_start_ms', 'predicted_end_ms', 'outcome'] as const;
export const STAGE_COLUMNS = ['run_id', 'stage', 'layers', 'bytes_to_devices', 'bytes_from_devices'] as const;

/** The parameter columns of a run, known before it runs (also the row of a run that failed). */
export function parameterRow(run: RunSpec, tb?: Testbed): Row {
  const d = run.devices;
  const gen = d.kind === 'generated' ? d : undefined;
  const links = tb ? [...new Set(tb.devices.map((x) => x.link.kind))].join('+') : '';
  return {
    run_id: run.id,
    experiment: run.experiment,
    mode: run.mode,
    model: basename(run.model, extname(run.model)),
    testbed: d.kind === 'file' ? basename(d.file, extname(d.file)) : 'generated',
    devices: tb?.devices.length ?? gen?.count ?? '',
    heterogeneity: gen?.heterogeneity ?? '',
    link_kind: gen?.base.link.kind ?? links,
    link_rate: gen?.rate ?? (tb ? Math.min(...tb.devices.map((x) => x.link.rate)) : ''),
    // A generator's per-device memory (bytes) and base MAC/s; a testbed file's devices differ, its name says which.
    device_memory: gen ? parseBytes(gen.base.memory) : '',
    device_speed: gen?.base.speed ?? '',
    strategy: run.strategy,
    replicas: run.replicas ?? '',
    epsilon: run.epsilon ?? '',
    lambda: run.lambda,
    faults: run.faults.length ? run.faults.map(faultLabel).join('; ') : 'none',
    failed_devices: run.faults.filter((f) => f.kind === 'crash' || f.kind === 'hang').reduce((a, f) => a + f.devices, 0),
    inputs: run.inputs,
    repetitions: run.repetitions,
    seed: run.seed,
  };
}

function faultLabel(f: Injection): string {
  const when = f.afterRuns !== undefined ? `after ${f.afterRuns} runs` : f.atMs !== undefined ? `at ${f.atMs} ms` : '';
  const what = f.kind === 'slowdown' ? `slowdown x${f.factor}` : f.kind === 'corrupt' ? `corrupt p=${f.p}` : f.kind;
  return `${what} on ${f.devices} ${when}`.trim();
}

/** Device ids by how many fragments the plan gives them, most first (ties by id). */
function busiestDevices(plan: Plan): string[] {
  const n = new Map(plan.devices.map((d) => [d.id, 0]));
  for (const s of plan.stages) for (const f of s.fragments) for (const d of f.devices) n.set(d, (n.get(d) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([id]) => id);
}

/** The testbed with the run's faults injected into the devices the plan leans on most. */
export function injectFaults(tb: Testbed, plan: Plan, faults: Injection[]): Testbed {
  const order = busiestDevices(plan);
  const added = new Map<string, FaultSpec>();
  for (const f of faults) {
    if (f.devices > order.length) throw new Error(`a ${f.kind} fault on ${f.devices} devices, but the run has ${order.length}`);
    for (const id of order.slice(0, f.devices)) {
      const x: Partial<FaultSpec> = { ...added.get(id) };
      if (f.kind === 'crash' && f.atMs !== undefined) x.crashAtMs = f.atMs;
      if (f.kind === 'crash' && f.afterRuns !== undefined) x.crashAfterRuns = f.afterRuns;
      if (f.kind === 'hang') x.hangAtMs = f.atMs;
      if (f.kind === 'slowdown') x.slowdown = { atMs: f.atMs!, factor: f.factor! };
      if (f.kind === 'corrupt') x.corruptP = f.p;
      added.set(id, x as FaultSpec);
    }
  }
  return parseTestbed({ ...tb, devices: tb.devices.map((d) => (added.has(d.id) ? { ...d, faults: { ...d.faults, ...added.get(d.id) } } : d)) }, 'testbed with faults');
}

/** The run's inputs: seeded uniform int8 (or matching dtype) tensors, one set per distinct input. */
function makeInputs(graph: Graph, n: number, seed: number): TensorData[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () =>
    graph.inputs.map((id) => {
      const t = graph.tensors[id];
      if (t.dtype !== 'int8') throw new Error(`experiments feed int8 inputs; input ${t.name} is ${t.dtype}`);
      return Int8Array.from({ length: numElements(t.shape) }, () => Math.floor(random() * 256) - 128);
    }),
  );
}

const sameBytes = (a: TensorData, b: TensorData) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

type Devices = Pick<OpenTestbed, 'profiles' | 'clients' | 'close'>;

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** Runs one experiment run; throws when it cannot start (the caller writes the error in its row). */
export async function executeRun(run: RunSpec, baseDir: string): Promise<RunOutcome> {
  const wall0 = performance.now();
  const graph = await loadModel(specPath(baseDir, run.model));
  const tb0 = testbedOf(run.devices, run.seed, baseDir);
  const plan = await makePlan(graph, testbedProfiles(tb0), { strategy: run.strategy, lambda: run.lambda, epsilon: run.epsilon, replicas: run.replicas });
  const tb = injectFaults(tb0, plan, run.faults);
  const inputs = makeInputs(graph, run.inputs, run.seed);
  const expected: TensorData[][] = [];
  for (const x of inputs) expected.push(await runGraph(oracle, graph, x));

  const body = async (open: Devices) => {
    try {
      return await measure(graph, plan, tb, open, inputs, expected, run.repetitions);
    } finally {
      await open.close();
    }
  };
  const m = run.mode === 'virtual' ? (await withVirtualClock(async () => body(await openVirtualTestbed(tb)))).value : await body(await openTestbed(tb));

  const lat = m.latencies.slice().sort((a, b) => a - b);
  const median = lat.length ? percentile(lat, 50) : NaN;
  const predictedMs = plan.predicted.makespanS * 1000;
  const n = run.repetitions;
  const row: Row = {
    ...parameterRow(run, tb),
    predicted_ms: round(predictedMs),
    measured_ms: lat.length ? round(median) : '',
    measured_p95_ms: lat.length ? round(percentile(lat, 95)) : '',
    predicted_energy_mj: round(plan.predicted.energyJ * 1000, 4),
    measured_energy_mj: m.energyJ.length ? round((m.energyJ.reduce((a, b) => a + b, 0) / m.energyJ.length) * 1000, 4) : '',
    bytes_on_wire: Math.round(m.wireBytes / n),
    bytes_retransmitted: Math.round(m.wireRetransmitted / n),
    max_peak_over_budget: round(Math.max(...m.devices.map((d) => d.peak / d.budget)), 4),
    memory_ok: m.devices.every((d) => d.high_water <= d.peak && d.peak <= d.budget),
    retries: m.retries,
    failures_survived: m.survived,
    inferences_ok: m.latencies.length,
    exact: m.exact === n,
    exact_share: round(m.exact / n, 4),
    cost_model_error: lat.length ? round(median / predictedMs - 1, 4) : '',
    wall_ms: Math.round(performance.now() - wall0),
    error: m.errors[0] ?? '',
  };
  const usage = new Map(plan.usage.map((u) => [u.device, u]));
  return {
    row,
    devices: m.devices.map((d) => ({
      run_id: run.id,
      device: d.id,
      budget: d.budget,
      plan_peak: d.peak,
      high_water: d.high_water,
      fragments: d.fragments,
      busy_ms: round(d.busy_ms / n),
      predicted_busy_ms: round((usage.get(d.id)?.busyS ?? 0) * 1000),
    })),
    trace: ganttRows(run.id, plan, m.firstTrace),
    stages: stageRows(run.id, graph, plan, m.allTrace, n),
  };
}

interface Measured {
  latencies: number[];
  energyJ: number[];
  exact: number;
  errors: string[];
  wireBytes: number;
  wireRetransmitted: number;
  retries: number;
  survived: number;
  devices: ReturnType<typeof deviceReports>;
  firstTrace: TraceRecord[];
  allTrace: TraceRecord[];
}

function wireOf(c: DeviceClient) {
  return { bytes: c.stats.bytesIn + c.stats.bytesOut, retransmitted: c.stats.bytesRetransmitted };
}

async function measure(graph: Graph, plan: Plan, tb: Testbed, open: Devices, inputs: TensorData[][], expected: TensorData[][], reps: number): Promise<Measured> {
  const { executor } = await deployModel(graph, open, {}, plan);
  const energyOf = new Map(tb.devices.map((d) => [d.id, d.energy]));
  const macsOf = new Map(plan.stages.flatMap((s) => s.fragments.map((f) => [f.id, f.macs] as const)));
  const m: Measured = { latencies: [], energyJ: [], exact: 0, errors: [], wireBytes: 0, wireRetransmitted: 0, retries: 0, survived: 0, devices: [], firstTrace: [], allTrace: [] };
  for (let i = 0; i < reps; i++) {
    const k = i % inputs.length;
    const before = new Map([...open.clients].map(([id, c]) => [id, wireOf(c)]));
    const from = executor.trace.records.length;
    try {
      const r = await executor.infer(inputs[k], i);
      const records = executor.trace.records.slice(from);
      m.latencies.push(r.latencyMs);
      if (r.outputs.every((o, j) => sameBytes(o, expected[k][j]))) m.exact++;
      else m.errors.push(`inference ${i}: outputs differ from the oracle`);
      // Energy measured from what happened: MACs of the fragments that
      // returned a result, wire bytes each device moved, idle power for the
      // rest of the inference.
      let joules = 0;
      for (const [id, c] of open.clients) {
        const e = energyOf.get(id);
        if (!e) continue;
        const mine = records.filter((x) => x.device === id);
        const macs = mine.filter((x) => x.outcome === 'ok').reduce((a, x) => a + (macsOf.get(x.fragment) ?? 0), 0);
        const busy = mine.reduce((a, x) => a + (x.end - x.start), 0);
        const wire = wireOf(c).bytes - before.get(id)!.bytes;
        joules += macs * e.nJPerMac * 1e-9 + wire * e.nJPerByte * 1e-9 + (e.idleMw / 1000) * Math.max(0, r.latencyMs - busy) / 1000;
      }
      m.energyJ.push(joules);
    } catch (e) {
      m.errors.push(`inference ${i}: ${(e as Error).message}`);
    }
    for (const [id, c] of open.clients) {
      m.wireBytes += wireOf(c).bytes - before.get(id)!.bytes;
      m.wireRetransmitted += wireOf(c).retransmitted - before.get(id)!.retransmitted;
    }
    if (i === 0) m.firstTrace = executor.trace.records.slice(from);
  }
  m.allTrace = executor.trace.records;
  m.retries = m.allTrace.reduce((a, x) => a + x.retries, 0);
  // Devices the executor gave up on while the run still completed inferences.
  m.survived = m.latencies.length ? executor.unhealthy.size : 0;
  m.devices = deviceReports(plan, executor);
  return m;
}

/** The first inference's fragment runs, times from its first fragment's start, beside the plan's. */
function ganttRows(runId: string, plan: Plan, records: TraceRecord[]): Row[] {
  if (!records.length) return [];
  const t0 = Math.min(...records.map((r) => r.start));
  const predicted = new Map(plan.stages.flatMap((s) => s.fragments.map((f) => [f.id, f.predicted] as const)));
  return records.map((r) => ({
    run_id: runId,
    device: r.device,
    fragment: r.fragment,
    stage: r.stage,
    start_ms: round(r.start - t0),
    end_ms: round(r.end - t0),
    predicted_start_ms: round((predicted.get(r.fragment)?.start ?? 0) * 1000),
    predicted_end_ms: round((predicted.get(r.fragment)?.end ?? 0) * 1000),
    outcome: r.outcome,
  }));
}

/** Tile bytes per stage and inference: to the devices (inputs with halo) and back (boxes). */
function stageRows(runId: string, graph: Graph, plan: Plan, records: TraceRecord[], reps: number): Row[] {
  return plan.stages
    .filter((s) => s.where === 'devices')
    .map((s) => {
      const mine = records.filter((r) => r.stage === s.index);
      return {
        run_id: runId,
        stage: s.index,
        layers: s.ops.map((o) => graph.ops[o].kind).join('+'),
        bytes_to_devices: Math.round(mine.reduce((a, r) => a + r.bytesIn, 0) / reps),
        bytes_from_devices: Math.round(mine.reduce((a, r) => a + r.bytesOut, 0) / reps),
      };
    });
}
