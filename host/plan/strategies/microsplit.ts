// microsplit, ours (after DISNET's micro-split): vertical cuts and, per stage,
// a horizontal split (rows of a fused conv/pool stack, output channels, FC
// neurons) over a prefix of the devices ordered by speed or by memory, sized
// by speed or memory; chosen jointly by dynamic programming over the cut
// points with Lagrangian prices on the budgets and a local search.
import { assemblePlan, DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE, infeasibleError, type PlanRequest } from '../assemble.ts';
import { objectiveFor } from '../cost.ts';
import { deviceOrders, prefixSizes, spanOptions } from '../options.ts';
import type { DeviceProfile } from '../profiles.ts';
import { searchStages, type SearchResult } from '../search.ts';
import { candidateSpans } from '../stages.ts';
import type { Strategy } from './types.ts';

const ALL_SINGLES_UP_TO = 16;
const SINGLES_PER_ORDER = 8;

/** The search itself, on any device list (the replicated strategy runs it on device groups). */
export function searchMicrosplit(req: PlanRequest, devices: readonly DeviceProfile[]): SearchResult {
  const g = req.graph;
  const o = objectiveFor(g, devices, req.lambda);
  const spans = candidateSpans(g, req.maxFuse ?? DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE);
  const ks = prefixSizes(devices.length);
  const options = spans.map((span) => {
    const orders = deviceOrders(g, span, devices);
    const subsets = orders.flatMap((order) => ks.map((k) => order.slice(0, k)));
    // Devices alone (the vertical-only plans): all of them when few, else the
    // fastest and the roomiest few, enough alternatives for the memory search.
    subsets.push(...(devices.length <= ALL_SINGLES_UP_TO ? devices.map((_, d) => [d]) : orders.flatMap((o) => o.slice(0, SINGLES_PER_ORDER).map((d) => [d]))));
    return spanOptions(g, devices, o, span, subsets);
  });
  // Vertical cuts alone first: a small search whose plan, when one fits, the full search can only improve on.
  const vertical = searchStages(g.ops.length, devices, spans, options.map((os) => os.filter((o) => o.choice.split === 'whole')));
  return searchStages(g.ops.length, devices, spans, options, vertical.feasible ? [vertical.feasible] : []);
}

export const microsplit: Strategy = {
  name: 'microsplit',
  summary: 'vertical cuts + per-stage row/channel/neuron splits sized to speed and memory, fused tiles (ours)',
  async plan(req) {
    const r = searchMicrosplit(req, req.devices);
    if (r.feasible) return assemblePlan(req, 'microsplit', r.feasible.map((o) => o.choice));
    throw infeasibleError(req, 'microsplit', r.closest && assemblePlan(req, 'microsplit', r.closest.map((o) => o.choice)), (devices) =>
      searchMicrosplit({ ...req, devices }, devices).feasible !== null,
    );
  },
};
