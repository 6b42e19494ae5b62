// Baseline `layerwise` (Neurosurgeon-like): vertical cuts only. Each stage, a
// run of layers, runs whole on one device; the cut points and devices are
// chosen by the same search as microsplit, without horizontal splits.
import { assemblePlan, infeasibleError, type PlanRequest } from '../assemble.ts';
import { objectiveFor } from '../cost.ts';
import { spanOptions } from '../options.ts';
import type { DeviceProfile } from '../profiles.ts';
import { searchStages, type SearchResult } from '../search.ts';
import { candidateSpans } from '../stages.ts';
import type { Strategy } from './types.ts';

function searchLayerwise(req: PlanRequest, devices: readonly DeviceProfile[]): SearchResult {
  const g = req.graph;
  const o = objectiveFor(g, devices, req.lambda);
  const spans = candidateSpans(g, 1);
  const singles = devices.map((_, d) => [d]);
  return searchStages(g.ops.length, devices, spans, spans.map((s) => spanOptions(g, devices, o, s, singles)));
}

export const layerwise: Strategy = {
  name: 'layerwise',
  summary: 'baseline (Neurosurgeon-like): vertical cuts only, each layer range whole on one device',
  async plan(req) {
    const r = searchLayerwise(req, req.devices);
    if (r.feasible) return assemblePlan(req, 'layerwise', r.feasible.map((o) => o.choice));
    throw infeasibleError(req, 'layerwise', r.closest && assemblePlan(req, 'layerwise', r.closest.map((o) => o.choice)), (devices) =>
      searchLayerwise({ ...req, devices }, devices).feasible !== null,
    );
  },
};
