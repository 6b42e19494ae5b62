// Baseline `single`: the whole model on the one device that runs it best, or
// infeasible when none holds it.
import { assemblePlan, infeasibleError, type PlanRequest } from '../assemble.ts';
import { objectiveFor } from '../cost.ts';
import { spanOptions } from '../options.ts';
import type { DeviceProfile } from '../profiles.ts';
import { overflow, searchStages, type Option } from '../search.ts';
import { candidateSpans } from '../stages.ts';
import type { Strategy } from './types.ts';

/** The best one-device plan over all devices, or null; and the attempt that overflows least. */
function searchSingle(req: PlanRequest, devices: readonly DeviceProfile[]): { feasible: Option[] | null; closest: Option[] | null } {
  const g = req.graph;
  const o = objectiveFor(g, devices, req.lambda);
  const spans = candidateSpans(g, 1);
  const excess = (x: Option[]) => overflow(devices, x).reduce((t, v) => t + Math.max(0, v), 0);
  let feasible: Option[] | null = null;
  let closest: Option[] | null = null;
  devices.forEach((_, d) => {
    const r = searchStages(g.ops.length, devices, spans, spans.map((s) => spanOptions(g, devices, o, s, [[d]])), [], 1);
    const j = (x: Option[]) => x.reduce((s, opt) => s + opt.j, 0);
    if (r.feasible && (!feasible || j(r.feasible) < j(feasible))) feasible = r.feasible;
    if (r.closest && (!closest || excess(r.closest) < excess(closest))) closest = r.closest;
  });
  return { feasible, closest };
}

export const single: Strategy = {
  name: 'single',
  summary: 'baseline: the whole model on the best single device that holds it',
  async plan(req) {
    const r = searchSingle(req, req.devices);
    if (r.feasible) return assemblePlan(req, 'single', r.feasible.map((o) => o.choice));
    throw infeasibleError(req, 'single', r.closest && assemblePlan(req, 'single', r.closest.map((o) => o.choice)), (devices) =>
      searchSingle({ ...req, devices }, devices).feasible !== null,
    );
  },
};
