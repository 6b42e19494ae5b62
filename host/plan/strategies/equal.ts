// Baseline `equal` (MoDNN-like): every layer its own stage, split equally
// over all devices (rows of conv/pool/ADD outputs, FC neurons); softmax whole
// on the first device. No search: infeasible when a device overflows.
import { assemblePlan, infeasibleError, type PlanRequest } from '../assemble.ts';
import { worstShortfall } from '../memory.ts';
import type { Plan } from '../plan-file.ts';
import type { DeviceProfile } from '../profiles.ts';
import { buildStage, candidateSpans, gatewayStage } from '../stages.ts';
import type { Strategy } from './types.ts';

function planEqual(req: PlanRequest, devices: DeviceProfile[]): Plan {
  const r = { ...req, devices };
  const all = devices.map((_, d) => [d]);
  const equalShares = devices.map(() => 1);
  const stages = candidateSpans(req.graph, 1, 1).map((span) => {
    if (span.gateway) return gatewayStage(span);
    if (span.splits.includes('rows')) return buildStage(req.graph, span, 'rows', all, equalShares);
    if (span.splits.includes('channels')) return buildStage(req.graph, span, 'channels', all, equalShares);
    return buildStage(req.graph, span, 'whole', [[0]], [1]);
  });
  return assemblePlan(r, 'equal', stages);
}

export const equal: Strategy = {
  name: 'equal',
  summary: 'baseline (MoDNN-like): every layer split equally over all devices',
  async plan(req) {
    const plan = planEqual(req, req.devices);
    if (!worstShortfall(plan.memory)) return plan;
    throw infeasibleError(req, 'equal', plan, (devices) => !worstShortfall(planEqual(req, devices).memory));
  },
};
