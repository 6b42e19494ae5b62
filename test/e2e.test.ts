// End to end over real links: four simulated devices (agent.wasm processes,
// two behind socat PTYs and two on loopback TCP) take person_detect and then
// mnist-l, each planned by microsplit and deployed by the gateway; every
// output equals the oracle's byte for byte, and every device's own
// high-water mark stays within the plan's peak, within its budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { deviceReports, memoryViolations } from '../host/run/report.ts';
import { openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { missingSocat } from '../host/sim/pty.ts';
import { toolGate } from './tool-gate.ts';
import { childPids, closeAndListLeftovers, MNIST_L, mnistInputs, PERSON_DETECT, personDetectInputs, splitRun } from './e2e-fixture.ts';
import { planDevices } from '../host/plan/plan-file.ts';

const TESTBED = 'test/fixtures/e2e-four.json';
const INPUTS = 50;
/** Without socat the PTY devices run on loopback TCP (paced the same): only the link kinds need it. */
const socat = toolGate(missingSocat());

const models: { name: string; file: string; inputs: (g: Graph) => TensorData[] }[] = [
  { name: 'person_detect (its 2 images + 48 seeded random ones)', file: PERSON_DETECT, inputs: (g) => personDetectInputs(g, INPUTS) },
  { name: 'mnist-l (the first 50 test images)', file: MNIST_L, inputs: () => mnistInputs(INPUTS) },
];

describe(`${TESTBED}: two devices on PTYs, two on loopback TCP, one model after the other`, () => {
  let open: OpenTestbed;
  let childrenBefore: number[];
  beforeAll(async () => {
    childrenBefore = childPids();
    open = await openTestbed(TESTBED);
  }, 60_000);
  afterAll(() => open?.close());

  it.skipIf(socat.skip)(`starts two devices on PTYs and two on TCP${socat.note}`, () => {
    socat.check();
    expect(open.testbed.devices.map((d) => [d.id, d.uri.startsWith('/dev/pts/') ? 'pty' : d.uri.startsWith('tcp://127.0.0.1:') ? 'tcp' : d.uri])).toEqual([
      ['pty-a', 'pty'],
      ['pty-b', 'pty'],
      ['tcp-c', 'tcp'],
      ['tcp-d', 'tcp'],
    ]);
  });

  // Deploying RESETs the devices, which restarts their high-water marks: each model's are its own.
  it.each(models.map((m) => [m.name, m] as const))(
    `%s: ${INPUTS} outputs bit-exact with the oracle, high-water <= plan peak <= budget on every device`,
    async (_, { file, inputs: make }) => {
      const { plan, executor, outputs, expected } = await splitRun(open, file, make, 2);
      expect(outputs).toEqual(expected);

      const reports = deviceReports(plan, executor);
      expect(memoryViolations(reports)).toEqual([]);
      const planned = planDevices(plan);
      // The model really is split, and every device the plan uses ran and reported its arena.
      expect(planned.length).toBeGreaterThan(1);
      for (const r of reports.filter((r) => planned.includes(r.id))) {
        expect(r.fragments, r.id).toBeGreaterThan(0);
        expect(r.high_water, r.id).toBeGreaterThan(0);
      }
      expect(executor.unhealthy.size).toBe(0);
    },
    120_000,
  );

  it('leaves no process behind when closed', async () => {
    expect(await closeAndListLeftovers([open], childrenBefore)).toEqual([]);
  });
});
