// The boards of real microcontrollers under QEMU: an STM32F405
// (netduinoplus2) and a RISC-V rv32 (virt) run every TFLM vector through
// `microsplit conformance --board`; each agent's arena is what its link map
// leaves less the agent's overhead; and person_detect split by the planner
// over testbeds/boards.json (the STM32F405, the rv32, an MPS2 Cortex-M3 on a
// 128 KB chip's memory, two simulated devices) gives TFLM's [-113, 113], every
// board's high-water within the plan and the plan within its real arena, and
// no QEMU process outlives the testbed. Every board with a wasm3 image passes
// the vectors under wasm3 too (`conformance --board B --engine wasm3`).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../host/model/load.ts';
import { deviceReports, memoryViolations } from '../host/run/report.ts';
import { deployModel, openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { agentOverhead } from '../host/sim/agent-host.ts';
import { boardAgentMemory, missingQemuToolchain, missingRiscvToolchain, QEMU_BOARDS, QEMU_RX_WINDOW, type QemuBoardName } from '../host/sim/qemu.ts';
import { missingWasm3 } from '../host/wasm3/build.ts';
import { childPids, closeAndListLeftovers, PERSON_DETECT, personDetectInputs, oracleOutputs, bytes } from './e2e-fixture.ts';
import { toolGate } from './tool-gate.ts';
import { planDevices } from '../host/plan/plan-file.ts';

const gate = toolGate(missingQemuToolchain() ?? missingRiscvToolchain());
const CLI = 'bin/microsplit.js';
const wasm3Gate = toolGate(missingQemuToolchain() ?? missingRiscvToolchain() ?? missingWasm3());
const WASM3_BOARDS = (Object.keys(QEMU_BOARDS) as QemuBoardName[]).filter((b) => (QEMU_BOARDS[b].engines as readonly string[]).includes('wasm3'));

describe.skipIf(wasm3Gate.skip)(`wasm3 images of the boards${wasm3Gate.note}`, () => {
  beforeAll(wasm3Gate.check);

  it.each(WASM3_BOARDS)('conformance --board %s --engine wasm3 passes every TFLM vector', (board) => {
    const r = spawnSync(process.execPath, [CLI, 'conformance', '--board', board, '--engine', 'wasm3', '--json'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ engine: `board ${board} (wasm3)`, failed: 0 });
    expect(summary.passed).toBeGreaterThanOrEqual(91);
  }, 600_000);
});

describe.skipIf(gate.skip)(`boards of real microcontrollers${gate.note}`, () => {
  beforeAll(gate.check);

  it.each(['qemu-netduinoplus2', 'qemu-riscv32-virt'])('conformance --board %s passes every TFLM vector', (board) => {
    const r = spawnSync(process.execPath, [CLI, 'conformance', '--board', board, '--json'], { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ engine: `board ${board}`, failed: 0 });
    expect(summary.passed).toBeGreaterThanOrEqual(91);
  }, 600_000);

  describe('person_detect over testbeds/boards.json', () => {
    let open: OpenTestbed | undefined;
    let before: number[] = [];
    beforeAll(async () => {
      before = childPids();
      open = await openTestbed('testbeds/boards.json');
    }, 900_000);
    afterAll(() => open?.close());

    it('each board gives its agent what its link map leaves, less the overhead HELLO reports', () => {
      for (const [id, board] of [['stm32f405', 'qemu-netduinoplus2'], ['m3', 'qemu-mps2-an385']] as const) {
        const info = open!.clients.get(id)!.info;
        expect(info.overhead).toBe(agentOverhead(QEMU_RX_WINDOW));
        expect(info.budget + info.overhead).toBe(boardAgentMemory(board));
      }
      // The rv32 is told to give 128K of its memory.
      const rv = open!.clients.get('rv32')!.info;
      expect(rv.budget + rv.overhead).toBe(128 * 1024);
    });

    it('gives [-113, 113] on the person image and the oracle\'s bytes on the others, within plan and arena on every device', async () => {
      const graph = await loadModel(PERSON_DETECT);
      const inputs = personDetectInputs(graph, 3);
      const log: string[] = [];
      // Generous RUN deadlines: the boards share a loaded machine, and this is about memory and exactness, not latency.
      const { plan, executor, deployment } = await deployModel(graph, open!, { log: (l) => log.push(l), execute: { timeoutSlackMs: 20_000 } });
      const planned = new Map(plan.devices.map((d) => [d.id, new Set(deployment.fragments.filter((f) => f.plan.devices.includes(d.id)).map((f) => f.num))]));
      // Split over every device: the boards and the simulated ones.
      expect(planDevices(plan).sort()).toEqual(['m3', 'rv32', 'sim-a', 'sim-b', 'stm32f405']);
      const results = await executor
        .inferMany(
          inputs.map((x) => [x]),
          1,
        )
        .catch((e: Error) => {
          throw new Error(`${e.message}; executor log:\n${log.join('\n')}`);
        });
      expect(Array.from(results[0].outputs[0])).toEqual([-113, 113]);
      expect(results.map((r) => bytes(r.outputs[0]))).toEqual(await oracleOutputs(graph, inputs));
      // A device the executor loaded a fragment of a silent one onto (re-dispatch) holds more
      // than its plan; it must still stay within its arena. Every other device stays within its plan.
      const took = new Set([...deployment.holds].filter(([id, held]) => [...held].some((n) => !planned.get(id)?.has(n))).map(([id]) => id));
      const within = memoryViolations(deviceReports(plan, executor)).filter((v) => !took.has(v.split(':')[0]));
      expect(within, `executor log:\n${log.join('\n')}`).toEqual([]);
      for (const m of plan.memory) {
        const arena = open!.clients.get(m.device)!.info.budget;
        const highWater = executor.highWater.get(m.device) ?? 0;
        // high-water <= the plan's arena bytes <= the arena the device really has.
        expect(highWater, `${m.device}; executor log:\n${log.join('\n')}`).toBeLessThanOrEqual(took.has(m.device) ? arena : m.peak - m.reserved);
        expect(m.peak - m.reserved, m.device).toBeLessThanOrEqual(arena);
      }
    }, 600_000);

    it('leaves no QEMU or device process behind', async () => {
      const left = await closeAndListLeftovers([open!], before);
      open = undefined;
      expect(left).toEqual([]);
    }, 60_000);
  });
});
