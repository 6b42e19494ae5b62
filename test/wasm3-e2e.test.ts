// End to end on a mixed testbed: devices running agent.wasm under Node's
// WebAssembly (V8), under wasm3 (in their device processes, and firmware on a
// QEMU Cortex-M4) and through wasm2c (firmware on a QEMU Cortex-M4) take
// mnist-s and person_detect, each planned across them; every output
// equals the oracle's byte for byte and every device stays within its plan
// and budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { deviceReports, memoryViolations } from '../host/run/report.ts';
import { openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { missingQemuToolchain, QEMU_RX_WINDOW } from '../host/sim/qemu.ts';
import { missingWasm3 } from '../host/wasm3/build.ts';
import { MNIST_S, mnistInputs, PERSON_DETECT, personDetectInputs, splitRun } from './e2e-fixture.ts';
import { toolGate } from './tool-gate.ts';
import { planDevices } from '../host/plan/plan-file.ts';

const gate = toolGate(missingWasm3() ?? missingQemuToolchain());
/** Nominal speeds: the gateway's RUN timeouts follow from them, so they stay below what a loaded 2-core machine gives. */
const fast = { default: 200_000_000 };
/** What QEMU's Cortex-M4 reaches through wasm2c, about; a wasm3 entry's speed is read the same way (host/sim/wasm3-speed.ts). */
const qemuM4 = { default: 20_000_000 };
const link = (kind: 'pty' | 'tcp') => ({ kind, rate: 2_000_000 });
/**
 * One testbed per model, with arenas too small for the whole model on any
 * device, so that plans split it; each device's memory adds the agent's
 * overhead for its window.
 */
/** The wasm3 M4 image's arena is about 60 KB (docs/firmware.md: its 256 KB chip less wasm3's own heap use, which grows with agent-wasm3.wasm): stay well within. */
const WASM3_BOARD_ARENA = 32 * 1024;
const testbed = (arena: number) => ({
  name: `mixed engines, arenas of ${arena} bytes`,
  seed: 19,
  devices: [
    { id: 'v8-a', memory: arena + agentOverhead(2048), speed: fast, link: link('pty'), receiveWindow: 2048 },
    { id: 'wasm3-b', engine: 'wasm3', memory: arena + agentOverhead(2048), speed: fast, link: link('pty'), receiveWindow: 2048 },
    { id: 'wasm3-c', engine: 'wasm3', memory: arena + agentOverhead(4096), speed: fast, link: link('tcp'), receiveWindow: 4096 },
    { id: 'wasm2c-m4', board: 'qemu-mps2-an386', memory: arena + agentOverhead(QEMU_RX_WINDOW), speed: qemuM4, link: link('pty') },
    { id: 'wasm3-m4', board: 'qemu-mps2-an386', engine: 'wasm3', memory: Math.min(arena, WASM3_BOARD_ARENA) + agentOverhead(QEMU_RX_WINDOW), speed: qemuM4, link: link('pty') },
  ],
});
const INPUTS = 6;

const models: { name: string; file: string; memory: number; inputs: (g: Graph) => TensorData[] }[] = [
  { name: 'mnist-s', file: MNIST_S, memory: 24 * 1024, inputs: () => mnistInputs(INPUTS) },
  { name: 'person_detect', file: PERSON_DETECT, memory: 96 * 1024, inputs: (g) => personDetectInputs(g, INPUTS) },
];

describe.skipIf(gate.skip)(`V8, wasm3 and wasm2c devices in one testbed${gate.note}`, () => {
  let open: OpenTestbed | undefined;
  beforeAll(gate.check);
  afterAll(() => open?.close());

  it.each(models.map((m) => [m.name, m] as const))(
    `%s: ${INPUTS} outputs bit-exact with the oracle, split over wasm3 and other devices, within plan and budget`,
    async (_, { file, memory, inputs: make }) => {
      await open?.close();
      open = await openTestbed(testbed(memory) as never);
      const { plan, executor, outputs, expected } = await splitRun(open, file, make, 2);
      expect(outputs).toEqual(expected);
      expect(memoryViolations(deviceReports(plan, executor))).toEqual([]);
      const used = planDevices(plan);
      expect(used.some((d) => d.startsWith('wasm3-')), `devices used: ${used}`).toBe(true);
      expect(used.length, `devices used: ${used}`).toBeGreaterThan(2);
      expect(executor.unhealthy.size).toBe(0);
    },
    600_000,
  );
});
