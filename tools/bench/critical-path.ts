// Where one inference's latency goes, from the executor's trace: the chain of
// RUNs that ended last (each one's predecessor is the dependency it waited
// for, or the RUN before it on its device when it waited for the device),
// with every millisecond of it put in one bucket. The cost model's schedule
// of the same plan is cut the same way, so the two can be read side by side.
//
// Buckets of the chain, per inference (they sum to its latency):
// - compute: the fragments' MACs at the device's nominal MAC/s (what the
//   simulator holds a RESULT for);
// - transfer: tile and box bytes at the nominal line rate;
// - latency: the nominal one-way latency, twice per RUN;
// - overhead: the rest of each RUN (measured: frames, chunk acknowledgements,
//   the gateway's and the simulated device's handling of each message;
//   predicted: the profile's per-RUN overhead and what its measured latency
//   and receive window add to the nominal figures);
// - gateway: from a dependency's RESULT (or the device's previous RUN) to the
//   RUN beginning (stitching, cutting, scheduling), before the first RUN and
//   after the last (predicted: none, the model's gateway takes no time).
// Beside them, `idle`: the share of the inference the devices used spend
// without a RUN (waiting for dependencies, or for the inference to end).
import type { Graph } from '../../host/model/ir.ts';
import { fragmentWork } from '../../host/plan/cost.ts';
import { dataflowUnits } from '../../host/plan/dataflow.ts';
import type { Plan, PlanFragment } from '../../host/plan/plan-file.ts';
import { macRate, type DeviceProfile } from '../../host/plan/profiles.ts';
import type { TraceRecord } from '../../host/run/trace.ts';

export interface Breakdown {
  compute: number;
  transfer: number;
  latency: number;
  overhead: number;
  gateway: number;
  /** RUNs on the chain, and how many of them waited for their device rather than a dependency. */
  runs: number;
  laneBound: number;
  /** Mean over the devices used of the fraction of the inference they ran no RUN. */
  idle: number;
  total: number;
}

export const BUCKETS = ['compute', 'transfer', 'latency', 'overhead', 'gateway'] as const;

/** Slack (ms) under which a RUN counts as begun when it was ready. */
const EPS_MS = 0.05;

interface Chained {
  fragment: PlanFragment;
  device: string;
  /** When its inputs were ready (measured: cut and queued), its RUN began and ended, ms. */
  ready: number;
  begun: number;
  end: number;
}

/** For each fragment id, the fragment ids it waits for (through gateway stages). */
function fragmentDeps(g: Graph, plan: Plan): Map<string, Set<string>> {
  const units = dataflowUnits(
    g,
    plan.stages.map((s) => ({ ops: s.ops, gateway: s.where === 'gateway', fragments: s.fragments })),
  );
  const ids = units.map((u) => (u.fragment === undefined ? undefined : plan.stages[u.stage].fragments[u.fragment].id));
  const closure: Set<string>[] = [];
  units.forEach((u, i) => {
    const s = new Set<string>();
    for (const d of u.deps) {
      if (ids[d] !== undefined) s.add(ids[d]!);
      else for (const x of closure[d]) s.add(x);
    }
    closure[i] = s;
  });
  const out = new Map<string, Set<string>>();
  units.forEach((_, i) => ids[i] !== undefined && out.set(ids[i]!, closure[i]));
  return out;
}

/** The nominal parts of one RUN of `f` on `d` (ms): compute, transfer, latency. */
function nominal(g: Graph, f: PlanFragment, d: DeviceProfile): { compute: number; transfer: number; latency: number } {
  const w = fragmentWork(g, f.ops);
  return {
    compute: 1000 * w.macs.reduce((s, m) => s + m.macs / macRate(d, m.kind), 0),
    transfer: (1000 * (w.inBytes + w.outBytes)) / d.link.bytesPerSec,
    latency: 2000 * d.link.latencyS,
  };
}

function walk(
  g: Graph,
  runs: Chained[],
  deps: Map<string, Set<string>>,
  nominals: Map<string, DeviceProfile>,
  begin: number,
  finish: number,
  overheadOf?: (r: Chained) => number,
): Breakdown {
  const total = finish - begin;
  const b: Breakdown = { compute: 0, transfer: 0, latency: 0, overhead: 0, gateway: 0, runs: 0, laneBound: 0, idle: 0, total };
  if (runs.length === 0) return b;
  const busy = new Map<string, number>();
  for (const x of runs) busy.set(x.device, (busy.get(x.device) ?? 0) + x.end - x.begun);
  b.idle = total > 0 ? [...busy.values()].reduce((a, v) => a + (1 - v / total), 0) / busy.size : 0;
  const byId = new Map(runs.map((r) => [r.fragment.id, r]));
  let r: Chained | undefined = runs.reduce((a, x) => (x.end > a.end ? x : a));
  b.gateway += finish - r.end;
  while (r) {
    const cur: Chained = r;
    const n = nominal(g, cur.fragment, nominals.get(cur.device)!);
    b.compute += n.compute;
    b.transfer += n.transfer;
    b.latency += n.latency;
    b.overhead += overheadOf ? overheadOf(cur) : cur.end - cur.begun - n.compute - n.transfer - n.latency;
    b.runs++;
    let prev: Chained | undefined;
    if (cur.begun - cur.ready > EPS_MS) {
      // It may have waited for its device: the chain goes on through the RUN before it there if that was still running when its inputs were ready.
      for (const x of runs) if (x.device === cur.device && x !== cur && x.end <= cur.begun + EPS_MS && (!prev || x.end > prev.end)) prev = x;
      if (prev && prev.end <= cur.ready) prev = undefined;
    }
    if (prev) b.laneBound++;
    else for (const id of deps.get(cur.fragment.id) ?? []) {
      const x = byId.get(id);
      if (x && (!prev || x.end > prev.end)) prev = x;
    }
    b.gateway += cur.begun - (prev ? prev.end : begin);
    r = prev;
  }
  return b;
}

/**
 * The measured breakdown of inference `index` (its RUNs in `records`, ms
 * since the executor started; it began at `begin` and ended at `finish`),
 * against `nominals`: the devices' stated profiles by id.
 */
export function measuredBreakdown(g: Graph, plan: Plan, records: readonly TraceRecord[], index: number, begin: number, finish: number, nominals: Map<string, DeviceProfile>): Breakdown {
  const frags = new Map(plan.stages.flatMap((s) => s.fragments).map((f) => [f.id, f]));
  const runs: Chained[] = records
    .filter((r) => r.inference === index && r.outcome === 'ok' && r.begun !== undefined)
    .map((r) => ({ fragment: frags.get(r.fragment)!, device: r.device, ready: r.start, begun: r.begun!, end: r.end }));
  return walk(g, runs, fragmentDeps(g, plan), nominals, begin, finish);
}

/** The cost model's schedule of the plan (its fragments' predicted times, first device of each) cut into the same buckets. */
export function predictedBreakdown(g: Graph, plan: Plan, nominals: Map<string, DeviceProfile>): Breakdown {
  const deps = fragmentDeps(g, plan);
  const frags = plan.stages.flatMap((s) => s.fragments);
  const end = new Map(frags.map((f) => [f.id, f.predicted.end * 1000]));
  const runs: Chained[] = frags.map((f) => {
    const ready = Math.max(0, ...[...(deps.get(f.id) ?? [])].map((d) => end.get(d)!));
    return { fragment: f, device: f.devices[0], ready, begun: f.predicted.start * 1000, end: f.predicted.end * 1000 };
  });
  // The model's RUN is its send, compute and return: what is not nominal in it is overhead.
  const overhead = (r: Chained) => {
    const n = nominal(g, r.fragment, nominals.get(r.device)!);
    return r.end - r.begun - n.compute - n.transfer - n.latency;
  };
  return walk(g, runs, deps, nominals, 0, plan.predicted.makespanS * 1000, overhead);
}
