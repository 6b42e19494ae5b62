// The MILP optimum against an exhaustive enumeration of the same space, and
// the heuristic against the optimum.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE, type PlanRequest } from '../host/plan/assemble.ts';
import { objectiveFor } from '../host/plan/cost.ts';
import { spanOptions } from '../host/plan/options.ts';
import { graphHash } from '../host/plan/plan-file.ts';
import { fitsAlone, overflow, type Option } from '../host/plan/search.ts';
import { candidateSpans, withChainTails } from '../host/plan/stages.ts';
import { microsplit } from '../host/plan/strategies/microsplit.ts';
import { optimal } from '../host/plan/strategies/optimal.ts';
import { buildModel, syntheticDevices, type ModelSpec } from '../host/plan/synthetic.ts';

const tiny: ModelSpec = {
  name: 'tiny',
  seed: 5,
  input: [8, 8, 2],
  layers: [{ kind: 'conv', out: 4, k: 3 }, { kind: 'maxpool', k: 2, stride: 2 }, { kind: 'reshape' }, { kind: 'fc', units: 6 }],
};

function request(devices: number, budgetScale: number, lambda: number): PlanRequest {
  const graph = buildModel(tiny);
  const ds = syntheticDevices(devices, 4, 'uart-2M', 11).map((d) => ({ ...d, budget: Math.round(d.budget * budgetScale) }));
  return { graph, model: { name: 'tiny', sha256: graphHash(graph) }, devices: ds, lambda };
}

/** Minimum objective over every cover of the ops by spans and every option, within budgets: brute force. */
function exhaustive(req: PlanRequest): number {
  const g = req.graph;
  const o = objectiveFor(g, req.devices, req.lambda);
  const subsets = Array.from({ length: (1 << req.devices.length) - 1 }, (_, m) => req.devices.map((_, i) => i).filter((i) => (m + 1) & (1 << i)));
  const spans = withChainTails(g, candidateSpans(g, DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE));
  const opts = new Map(spans.map((s) => [s, spanOptions(g, req.devices, o, s, subsets).filter((x) => fitsAlone(req.devices, x))]));
  let best = Infinity;
  const walk = (at: number, chosen: Option[]) => {
    if (at === g.ops.length) {
      if (overflow(req.devices, chosen).every((v) => v <= 0)) best = Math.min(best, chosen.reduce((s, x) => s + x.j, 0));
      return;
    }
    for (const s of spans.filter((sp) => sp.start === at)) for (const x of opts.get(s)!) walk(s.end, [...chosen, x]);
  };
  walk(0, []);
  return best;
}

describe('optimal', () => {
  it.each([
    { devices: 2, budgetScale: 1, lambda: 0 },
    { devices: 3, budgetScale: 0.1, lambda: 0 },
    { devices: 3, budgetScale: 0.1, lambda: 1 },
  ])('equals brute force on $devices devices, budgets x$budgetScale, lambda $lambda', async ({ devices, budgetScale, lambda }) => {
    const req = request(devices, budgetScale, lambda);
    const best = exhaustive(req);
    expect(best).toBeLessThan(Infinity);
    const plan = await optimal.plan(req);
    expect(plan.predicted.objective).toBeCloseTo(best, 9);
    const heuristic = await microsplit.plan(req);
    expect(heuristic.predicted.objective).toBeGreaterThanOrEqual(best * (1 - 1e-9));
  });

  it('refuses requests beyond its size limits', async () => {
    await expect(optimal.plan(request(7, 1, 0))).rejects.toThrow(/^optimal: only for up to 6 devices and 8 layers \(got 7 devices, 4 layers\)$/);
  });
});
