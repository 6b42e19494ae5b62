// Work stealing over real links: mnist-s on three compute-bound simulated
// devices (one behind a socat PTY, two on loopback TCP), planned as row
// tiles of each layer range across all three, with a standby copy of each
// tile loaded where there is room. One device computes 4x slower than its
// profile (testbed `slowdown` fault) from the start: free devices holding
// its tiles pull them, every output equals the oracle's byte for byte, and
// the trace shows the slow device computed fewer tiles than the plan gave it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../host/model/ir.ts';
import { deployModel, openTestbed } from '../host/run/session.ts';
import type { Testbed } from '../host/sim/testbed.ts';
import { bytes, childPids, closeAndListLeftovers, mnistCase } from './e2e-fixture.ts';

const INPUTS = 12;
const SLOW = 'tcp-b';

/** 2 M MAC/s makes a tile's compute tens of ms, well above the links' and the simulator's fixed costs. */
const device = (id: string, kind: 'pty' | 'tcp') => ({ id, memory: 96 * 1024, speed: { default: 2_000_000 }, link: { kind, rate: 10_000_000, latencyMs: 0.5 }, receiveWindow: 4096 });
const TESTBED: Testbed = {
  name: 'steal: three equal compute-bound devices, one computing 4x slower',
  seed: 5,
  devices: [device('pty-a', 'pty'), { ...device(SLOW, 'tcp'), faults: { dropP: 0, corruptP: 0, slowdown: { atMs: 0, factor: 4 } } }, device('tcp-c', 'tcp')],
};

describe('mnist-s on three devices, one 4x slower than its profile, standbys loaded', () => {
  let graph: Graph;
  let inputs: Int8Array[];
  let expected: Buffer[];
  beforeAll(async () => {
    ({ graph, inputs, expected } = await mnistCase(INPUTS));
  });

  // One inference at a time, then two in flight (a device's lane then holds the next inference's tiles behind the current ones).
  it.each([1, 2])('%i in flight: free devices pull the slow one’s tiles, every output bit-exact, the slow device computes fewer tiles than planned', async (inFlight) => {
    const childrenBefore = childPids();
    const open = await openTestbed(TESTBED);
    const log: string[] = [];
    try {
      const { plan, executor } = await deployModel(graph, open, { log: (l) => log.push(l), standbys: true });
      const planned = plan.stages.flatMap((s) => s.fragments).filter((f) => f.devices.includes(SLOW)).length;
      // The plan splits layers into tiles across the devices, the slow one included.
      expect(plan.stages.some((s) => s.fragments.length > 1)).toBe(true);
      expect(planned).toBeGreaterThan(1);

      const results = await executor.inferMany(
        inputs.map((x) => [x]),
        inFlight,
      );
      expect(results.map((r) => bytes(r.outputs[0]))).toEqual(expected);

      const computed = (id: string) => executor.trace.records.filter((r) => r.device === id && r.outcome === 'ok').length;
      expect(computed(SLOW), log.join('\n')).toBeLessThan(planned * INPUTS);
      // Its tiles went to the others: they computed more than the plan gave them.
      const others = ['pty-a', 'tcp-c'];
      const plannedOthers = plan.stages.flatMap((s) => s.fragments).reduce((a, f) => a + f.devices.filter((d) => others.includes(d)).length, 0);
      expect(others.reduce((a, id) => a + computed(id), 0)).toBeGreaterThan(plannedOthers * INPUTS);
      expect(log.some((l) => new RegExp(`^fragment s\\d+f\\d+ pulled by (pty-a|tcp-c) from ${SLOW}`).test(l)), log.join('\n')).toBe(true);
      // Slow is not lost: nobody is given up on.
      expect(executor.unhealthy.size, log.join('\n')).toBe(0);
    } finally {
      expect(await closeAndListLeftovers([open], childrenBefore)).toEqual([]);
    }
  }, 90_000);
});
