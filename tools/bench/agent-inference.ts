// person_detect through the device agent on one QEMU M4 (-icount shift=0, so
// one microsecond of the board's clock is 1000 instructions): its kernel ops
// LOADed as one fragment over the link and RUN on the test image, the RESULT
// checked against the oracle. The agent reports the microseconds its RUN spent
// in kernels (computeUs), which is the number divided by the MACs.
import { KERNEL_ABI_HASH } from '../../host/abi/kernel-abi.ts';
import { DeviceClient } from '../../host/link/client.ts';
import { openSerial } from '../../host/link/serial.ts';
import type { Graph, TensorData } from '../../host/model/ir.ts';
import { isKernelOp } from '../../host/abi/kernel-abi.ts';
import { prepareOp } from '../../host/model/op-params.ts';
import { oracle } from '../../host/model/oracle.ts';
import { buildFragment, wholeOpsFragment } from '../../host/run/fragment-build.ts';
import type { PlanFragment } from '../../host/plan/plan-file.ts';
import { join } from 'node:path';
import { buildFirmware, FIRMWARE_DIR, startQemuBoards } from '../../host/sim/qemu.ts';
import { boxMacs } from '../firmware/job.ts';

/** Instructions per microsecond of a board run with -icount shift=0 (1 ns per instruction). */
const INSTRUCTIONS_PER_US = 1000;

export interface AgentInference {
  ops: number;
  macs: number;
  instructions: number;
}

/** The graph's leading run of kernel ops (every op up to the first gateway op) as one whole-tensor fragment. */
function leadingKernelOps(graph: Graph): PlanFragment {
  const ops: number[] = [];
  for (let i = 0; i < graph.ops.length && isKernelOp(prepareOp(graph, i)); i++) ops.push(i);
  return wholeOpsFragment(graph, ops, 'm4', 'bench');
}

const bytesOf = (d: TensorData) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** Runs the leading kernel ops of `graph` on `input` through the agent of a fresh M4 board; throws unless the result equals the oracle's. */
export async function agentInference(graph: Graph, input: TensorData): Promise<AgentInference> {
  const plan = leadingKernelOps(graph);
  const fragment = buildFragment(graph, plan);
  const values = await oracle.runAll(graph, [input]);
  const expected = bytesOf(values[plan.output.tensor]!);
  const macs = plan.ops.reduce((a, ob) => {
    const p = prepareOp(graph, ob.op);
    return a + (isKernelOp(p) ? boxMacs(p, ob.out) : 0);
  }, 0);
  // The whole of person_detect (about 300 KB of constants and activations) is
  // more than the device images' 256 KB chip: this measurement uses the agent
  // image on the FPGA board's memory (1 MiB of linear memory).
  const image = 'build/qemu-mps2-an386/agent-fpga.elf';
  buildFirmware([image]);
  const [board] = await startQemuBoards([{ id: 'm4', board: 'qemu-mps2-an386' }], { image: () => join(FIRMWARE_DIR, image) });
  try {
    const client = await DeviceClient.connect(await openSerial(board.path), { name: 'm4', expectAbi: KERNEL_ABI_HASH, connectTimeoutMs: 20_000 });
    try {
      await client.load(1, fragment.blob, { arena: fragment.arena, digest: fragment.digest });
      const r = await client.run(1, bytesOf(input), { timeoutMs: 600_000 });
      if (!Buffer.from(r.output).equals(expected)) throw new Error('the agent`s result differs from the oracle`s');
      return { ops: plan.ops.length, macs, instructions: r.computeUs * INSTRUCTIONS_PER_US };
    } finally {
      await client.close();
    }
  } finally {
    await board.stop();
  }
}
