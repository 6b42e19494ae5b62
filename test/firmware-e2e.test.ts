// End to end on emulated hardware: three QEMU boards (two Cortex-M4, one
// Cortex-M3) running the firmware behind their own PTYs take mnist-s, planned
// by microsplit and deployed by the gateway exactly as for any serial device;
// every output equals the oracle's byte for byte, and no board goes past its plan
// or its budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../host/model/load.ts';
import { deployModel, openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { deviceReports, memoryViolations } from '../host/run/report.ts';
import { missingQemuToolchain } from '../host/sim/qemu.ts';
import { toolGate } from './tool-gate.ts';
import { bytes, MNIST_S, mnistInputs, oracleOutputs } from './e2e-fixture.ts';
import { planDevices } from '../host/plan/plan-file.ts';

const INPUTS = 10;
const missing = missingQemuToolchain();
const qemu = toolGate(missing);
/** Budgets too small for the whole model on one board, so the plan must split it. */
const board = (id: string, kind: string, memory: string) => ({ id, board: kind, memory, speed: { default: 50_000_000 }, link: { kind: 'pty', rate: 1_000_000 } });
/** Memory each board gives its agent: an arena of 24K beside the agent's overhead (13K with the firmware's 1 KiB window). */
const TESTBED = {
  name: 'three QEMU boards',
  devices: [board('m4-a', 'qemu-mps2-an386', '37K'), board('m4-b', 'qemu-mps2-an386', '37K'), board('m3-c', 'qemu-mps2-an385', '37K')],
};

describe.skipIf(qemu.skip)(`mnist-s across three QEMU boards${qemu.note}`, () => {
  beforeAll(() => qemu.check());
  let open: OpenTestbed;
  beforeAll(async () => {
    open = await openTestbed(TESTBED as never);
  }, 900_000);
  afterAll(() => open?.close());

  it(`${INPUTS} outputs bit-exact with the oracle, every board within its plan and budget`, async () => {
    const graph = await loadModel(MNIST_S);
    const inputs = mnistInputs(INPUTS);
    const { plan, executor } = await deployModel(graph, open);
    const results = await executor.inferMany(
      inputs.map((x) => [x]),
      1,
    );
    expect(results.map((r) => bytes(r.outputs[0]))).toEqual(await oracleOutputs(graph, inputs));
    expect(memoryViolations(deviceReports(plan, executor))).toEqual([]);
    // Every board holds part of the model.
    expect(planDevices(plan)).toEqual(['m4-a', 'm4-b', 'm3-c']);
  }, 600_000);
});
