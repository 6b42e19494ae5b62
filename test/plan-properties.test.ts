// Property tests over random small models and random device sets, for every
// strategy: each op's output covered exactly once per replica group, every
// device within its budget, makespan at or above the lower bound, the file
// schema accepted, and the distributed result (fragment by fragment through
// the oracle) equal to the whole model's, bit for bit. When no plan fits,
// the error is the one-line InfeasibleError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { oracle } from '../host/model/oracle.ts';
import type { PlanRequest } from '../host/plan/assemble.ts';
import { makespanLowerBound } from '../host/plan/cost.ts';
import { InfeasibleError } from '../host/plan/memory.ts';
import { graphHash, PlanSchema } from '../host/plan/plan-file.ts';
import { strategies } from '../host/plan/strategies/index.ts';
import { buildModel, randomModelSpec, syntheticDevices, type LinkClass } from '../host/plan/synthetic.ts';
import { coverageProblems, int8Input, runPlanDataflow, runPlanWithOracle } from './plan-helpers.ts';

const request = fc.record({
  model: fc.integer({ min: 1, max: 1_000_000 }),
  devices: fc.integer({ min: 1, max: 5 }),
  level: fc.integer({ min: 0, max: 5 }),
  link: fc.constantFrom<LinkClass>('uart-115200', 'uart-2M', 'wifi-1MBps'),
  budgetScale: fc.constantFrom(0.02, 0.1, 1),
  lambda: fc.constantFrom(0, 0.5, 1),
  seed: fc.integer({ min: 1, max: 1000 }),
});

/** Below every single device's failure probability, so replicated plans must form groups. */
const EPSILON = 0.005;

type Drawn = typeof request extends fc.Arbitrary<infer T> ? T : never;

function makeRequest(r: Drawn): PlanRequest {
  const graph = buildModel(randomModelSpec(r.model, 6));
  const devices = syntheticDevices(r.devices, r.level, r.link, r.seed).map((d) => ({ ...d, budget: Math.max(1024, Math.round(d.budget * r.budgetScale)) }));
  return { graph, model: { name: graph.name!, sha256: graphHash(graph) }, devices, lambda: r.lambda, epsilon: EPSILON };
}

const heuristics = ['microsplit', 'replicated', 'single', 'layerwise', 'equal', 'ftp-grid'];

describe.each(heuristics)('strategy %s on random models and devices', (name) => {
  it('gives a valid, bit-exact plan or the one-line infeasibility error', async () => {
    let planned = 0;
    let splitStages = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const req = makeRequest(r);
        let plan;
        try {
          plan = await strategies[name].plan(req);
        } catch (e) {
          expect(e).toBeInstanceOf(InfeasibleError);
          expect((e as Error).message).toMatch(/^no [\w-]+ plan fits: device "d\d+" is [\d,]+ bytes short .*; (smallest change: .*|no single added device or budget increase makes it fit)$/);
          expect((e as Error).message).not.toContain('\n');
          return;
        }
        planned++;
        splitStages += plan.stages.filter((s) => s.fragments.length > 1).length;
        expect(PlanSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
        expect(coverageProblems(req.graph, plan)).toEqual([]);
        if (name === 'replicated')
          for (const f of plan.stages.flatMap((s) => s.fragments)) {
            const fail = f.devices.reduce((p, id) => p * req.devices.find((d) => d.id === id)!.failureProb, 1);
            // A group above epsilon is only possible when it already holds every device.
            if (fail > EPSILON) expect(f.devices.length).toBe(req.devices.length);
          }
        for (const m of plan.memory) expect(m.peak).toBeLessThanOrEqual(m.budget);
        expect(plan.predicted.makespanS).toBeGreaterThanOrEqual(makespanLowerBound(req.graph, req.devices) * (1 - 1e-9));
        const input = int8Input(req.graph, r.seed);
        const whole = await oracle.runAll(req.graph, [input]);
        const split = runPlanWithOracle(req.graph, plan, [input]);
        // What the gateway stitches: each stage's output (fused intermediates stay on the devices).
        const stitched = plan.stages.map((s) => req.graph.ops[s.ops[s.ops.length - 1]].outputs[0]);
        for (const t of [...stitched, ...req.graph.outputs]) expect(split[t]).toEqual(whole[t]);
        // In dataflow order, each fragment as soon as what it reads is done: the same outputs.
        const flow = runPlanDataflow(req.graph, plan, [input]);
        for (const t of req.graph.outputs) expect(flow[t]).toEqual(whole[t]);
      }),
      { numRuns: 25, seed: 42 },
    );
    // The drawn budgets must leave some requests plannable, or the checks above say nothing.
    expect(planned).toBeGreaterThan(0);
    // Strategies that split must have split some stages (so tiles, halos and stitching were exercised).
    if (name !== 'single' && name !== 'layerwise') expect(splitStages).toBeGreaterThan(0);
  });
});
