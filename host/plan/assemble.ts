// Turns a strategy's chosen stages into a plan: schedule, memory maps, plan
// file fields. Also checks the budgets and explains an infeasible request.
import type { Graph } from '../model/ir.ts';
import { activeEnergy, fragmentWork, makespanLowerBound, objectiveFor, scheduleDataflow, type PlanTimes } from './cost.ts';
import { dataflowUnits } from './dataflow.ts';
import { planRoutes, type Route } from './routes.ts';
import { deviceKinds, deviceMemory, InfeasibleError, worstShortfall, type PlacedFragment } from './memory.ts';
import { fragmentActivationBytes, fragmentParamBytes } from './layout.ts';
import { PLAN_FORMAT, PLAN_VERSION, type Plan, type PlanStage } from './plan-file.ts';
import type { DeviceProfile } from './profiles.ts';
import { spanOps, type StageChoice } from './stages.ts';

/** What every strategy is asked. */
export interface PlanRequest {
  graph: Graph;
  model: { name: string; sha256: string };
  devices: DeviceProfile[];
  /** Energy sensitivity λ in [0, 1]. */
  lambda: number;
  /** Replication: group failure probability threshold ε, or a fixed replica count. */
  epsilon?: number;
  replicas?: number;
  /** Longest fused stack that may be split into tiles. */
  maxFuse?: number;
  /** Search for the smallest fix when infeasible (default true; benchmarks skip it). */
  suggestFix?: boolean;
}

export const DEFAULT_MAX_FUSE = 6;
/**
 * Longest chain the split search offers whole on one device besides each
 * chain's whole tail (withChainTails): bounds its options. Baselines are not capped.
 */
export const DEFAULT_MAX_WHOLE = 12;

/** The dataflow schedule of chosen stages on the request's devices: what the plan predicts and the executor follows. */
export function predictStages(req: PlanRequest, stages: readonly StageChoice[]): PlanTimes {
  const { graph: g, devices } = req;
  const units = dataflowUnits(
    g,
    stages.map((s) => ({ ops: spanOps(s.span), gateway: s.span.gateway, fragments: s.fragments })),
  );
  return scheduleDataflow(
    devices,
    stages.map((s) => s.fragments.map((f) => ({ work: fragmentWork(g, f.ops), devices: f.devices }))),
    units,
    objectiveFor(g, devices, req.lambda),
    stageRoutes(req, stages),
  );
}

/** The direct routes of the chosen stages' output boxes (host/plan/routes.ts). */
function stageRoutes(req: PlanRequest, stages: readonly StageChoice[]): Route[][][] {
  return planRoutes(
    req.graph,
    stages.map((s) => ({ gateway: s.span.gateway, fragments: s.fragments })),
    req.devices,
  );
}

export function assemblePlan(req: PlanRequest, strategy: string, stages: readonly StageChoice[]): Plan {
  const { graph: g, devices } = req;
  const times = predictStages(req, stages);
  const routes = stageRoutes(req, stages);
  const held = devices.map((): PlacedFragment[] => []);
  const planStages: PlanStage[] = stages.map((s, si) => {
    const t = times.stages[si];
    return {
      index: si,
      ops: spanOps(s.span),
      where: s.span.gateway ? 'gateway' : 'devices',
      split: s.split,
      predicted: { start: t.start, end: t.end },
      fragments: s.fragments.map((f, fi) => {
        const id = `s${si}f${fi}`;
        for (const d of f.devices) held[d].push({ id, ops: f.ops });
        const first = g.ops[f.ops[0].op];
        const last = f.ops[f.ops.length - 1];
        const work = fragmentWork(g, f.ops);
        return {
          id,
          stage: si,
          ops: f.ops.map((ob) => ({ op: ob.op, out: ob.out, tiles: ob.tiles })),
          inputs: f.ops[0].tiles.flatMap((box, k) => (box ? [{ tensor: first.inputs[k], box }] : [])),
          output: { tensor: g.ops[last.op].outputs[0], box: last.out },
          devices: f.devices.map((d) => devices[d].id),
          forwards: routes[si][fi].map((r) => ({ to: `s${r.stage}f${r.fragment}`, outOffset: r.outOffset, bytes: r.bytes, inOffset: r.inOffset })),
          macs: work.totalMacs,
          paramBytes: fragmentParamBytes(g, f.ops),
          activationBytes: fragmentActivationBytes(g, f.ops),
          inBytes: work.inBytes,
          outBytes: work.outBytes,
          predicted: { start: t.fragments[fi].start, end: t.fragments[fi].end },
        };
      }),
    };
  });
  const busy = devices.map(() => 0);
  const active = devices.map(() => 0);
  times.stages.forEach((t, si) =>
    t.fragments.forEach((ft, fi) =>
      ft.replicas.forEach((r) => {
        busy[r.device] += Math.max(0, Math.min(r.end, ft.end) - r.start);
        active[r.device] += activeEnergy(devices[r.device], fragmentWork(g, stages[si].fragments[fi].ops));
      }),
    ),
  );
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    model: req.model,
    strategy: { name: strategy, lambda: req.lambda, epsilon: req.epsilon ?? null, replicas: req.replicas ?? null },
    devices,
    stages: planStages,
    memory: devices.map((d, i) => deviceMemory(g, d, held[i])),
    usage: devices.map((d, i) => ({
      device: d.id,
      fragments: held[i].length,
      busyS: busy[i],
      energyJ: active[i] + d.energy.idleWatts * Math.max(0, times.makespanS - busy[i]),
    })),
    predicted: { makespanS: times.makespanS, energyJ: times.energyJ, objective: times.objective, lowerBoundS: makespanLowerBound(g, devices) },
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * The one-line error for a request no plan satisfies: the device with the
 * largest shortfall in the closest attempt, and the smallest change that
 * `feasibleWith` confirms (one more device of an existing kind, smallest
 * budget first, else a larger budget for that device).
 */
export function infeasibleError(
  req: PlanRequest,
  strategy: string,
  closest: Plan | null,
  feasibleWith: (devices: DeviceProfile[]) => boolean,
): InfeasibleError {
  const worst = closest ? worstShortfall(closest.memory) : null;
  const head = worst
    ? `no ${strategy} plan fits: device "${worst.device}" is ${fmt(worst.short)} bytes short (peak ${fmt(closest!.memory.find((m) => m.device === worst.device)!.peak)} > budget ${fmt(req.devices.find((d) => d.id === worst.device)!.budget)})`
    : `no ${strategy} plan fits the devices' budgets`;
  if (req.suggestFix === false) return new InfeasibleError(head, worst?.device, worst?.short);
  for (const kind of deviceKinds(req.devices)) {
    const extra = { ...kind, id: `${kind.id}+1` };
    if (feasibleWith([...req.devices, extra]))
      return new InfeasibleError(`${head}; smallest change: add one more device like "${kind.id}" (budget ${fmt(kind.budget)})`, worst?.device, worst?.short);
  }
  if (worst) {
    const raised = req.devices.map((d) => (d.id === worst.device ? { ...d, budget: d.budget + worst.short } : d));
    if (feasibleWith(raised))
      return new InfeasibleError(`${head}; smallest change: raise "${worst.device}"'s budget to ${fmt(worst.short + req.devices.find((d) => d.id === worst.device)!.budget)} bytes`, worst.device, worst.short);
  }
  return new InfeasibleError(`${head}; no single added device or budget increase makes it fit`, worst?.device, worst?.short);
}

/** Throws unless every device's peak is within its budget. */
export function checkBudgets(plan: Plan): void {
  const worst = worstShortfall(plan.memory);
  if (worst) throw new InfeasibleError(`plan puts device "${worst.device}" ${fmt(worst.short)} bytes over its budget`, worst.device, worst.short);
}
