// The op table (host/abi/ops/) is the one rule for what an op costs: the
// planner's count of each fragment's work equals what a simulated device
// charges for the blob built from that fragment, op by op, on every strategy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fragmentWork as plannedWork } from '../host/plan/cost.ts';
import { InfeasibleError } from '../host/plan/memory.ts';
import { graphHash } from '../host/plan/plan-file.ts';
import { strategies } from '../host/plan/strategies/index.ts';
import { buildModel, randomModelSpec, syntheticDevices } from '../host/plan/synthetic.ts';
import { buildFragment } from '../host/run/fragment-build.ts';
import { fragmentWork as chargedWork } from '../host/sim/work.ts';

describe.each(['microsplit', 'ftp-grid', 'layerwise'])('strategy %s', (name) => {
  it('prices every fragment as the simulated device charges it', async () => {
    let fragments = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 4 }), async (seed, n) => {
        const graph = buildModel(randomModelSpec(seed, 6));
        const devices = syntheticDevices(n, 2, 'wifi-1MBps', seed);
        let plan;
        try {
          plan = await strategies[name].plan({ graph, model: { name: graph.name!, sha256: graphHash(graph) }, devices, lambda: 0, suggestFix: false });
        } catch (e) {
          expect(e).toBeInstanceOf(InfeasibleError);
          return;
        }
        for (const stage of plan.stages)
          for (const f of stage.fragments) {
            const planned = plannedWork(graph, f.ops).macs;
            const charged = chargedWork(buildFragment(graph, f).blob);
            expect(charged).toEqual(planned.map(({ kind, macs }) => ({ kind, macs })));
            fragments++;
          }
      }),
      { numRuns: 25, seed: 7 },
    );
    expect(fragments).toBeGreaterThan(0);
  });
});
