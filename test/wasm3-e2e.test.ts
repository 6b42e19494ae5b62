// End to end on a mixed testbed: devices running agent.wasm under Node's
// WebAssembly (V8), under wasm3 (in their device processes) and through
// wasm2c (firmware on a QEMU Cortex-M4) take mnist-s and person_detect, each
// planned across all of them; every output equals the oracle's byte for byte
// and every device stays within its plan and budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { deviceReports, memoryViolations } from '../host/run/report.ts';
import { openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { missingQemuToolchain } from '../host/sim/qemu.ts';
import { missingWasm3 } from '../host/wasm3/build.ts';
import { MNIST_S, mnistInputs, PERSON_DETECT, personDetectInputs, splitRun } from './e2e-fixture.ts';
import { toolGate } from './tool-gate.ts';

const gate = toolGate(missingWasm3() ?? missingQemuToolchain());
const fast = { default: 200_000_000 };
const link = (kind: 'pty' | 'tcp') => ({ kind, rate: 2_000_000 });
/** Budgets no device can hold either model in, so that plans split them across engines. */
const TESTBED = {
  name: 'mixed engines',
  seed: 19,
  devices: [
    { id: 'v8-a', memory: '96K', speed: fast, link: link('pty'), receiveWindow: 2048 },
    { id: 'wasm3-b', engine: 'wasm3', memory: '96K', speed: fast, link: link('pty'), receiveWindow: 2048 },
    { id: 'wasm3-c', engine: 'wasm3', memory: '96K', speed: fast, link: link('tcp'), receiveWindow: 4096 },
    { id: 'wasm2c-m4', board: 'qemu-mps2-an386', memory: '96K', speed: fast, link: link('pty') },
  ],
};
const INPUTS = 6;

const models: { name: string; file: string; inputs: (g: Graph) => TensorData[] }[] = [
  { name: 'mnist-s', file: MNIST_S, inputs: () => mnistInputs(INPUTS) },
  { name: 'person_detect', file: PERSON_DETECT, inputs: (g) => personDetectInputs(g, INPUTS) },
];

describe.skipIf(gate.skip)(`V8, wasm3 and wasm2c devices in one testbed${gate.note}`, () => {
  let open: OpenTestbed;
  beforeAll(async () => {
    gate.check();
    open = await openTestbed(TESTBED as never);
  }, 900_000);
  afterAll(() => open?.close());

  it.each(models.map((m) => [m.name, m] as const))(
    `%s: ${INPUTS} outputs bit-exact with the oracle, split over every engine, within plan and budget`,
    async (_, { file, inputs: make }) => {
      const { plan, executor, outputs, expected } = await splitRun(open, file, make, 2);
      expect(outputs).toEqual(expected);
      expect(memoryViolations(deviceReports(plan, executor))).toEqual([]);
      const used = plan.memory.filter((m) => m.peak > 0).map((m) => m.device);
      for (const engine of ['v8-', 'wasm3-', 'wasm2c-']) expect(used.some((d) => d.startsWith(engine)), `devices used: ${used}`).toBe(true);
      expect(executor.unhealthy.size).toBe(0);
    },
    600_000,
  );
});
