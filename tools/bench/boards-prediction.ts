// person_detect on a testbed of QEMU boards of a known clock and simulated
// devices (testbeds/boards-timed.json): the plan's predicted latency beside
// the median of N measured inferences (after one warm-up), every output
// checked against the oracle. bench:e2e reports it as prediction_error_boards.
import { printTable } from '../../host/cli/table.ts';
import { readInput } from '../../host/model/inputs.ts';
import { runGraph } from '../../host/model/engine.ts';
import type { Graph, TensorData } from '../../host/model/ir.ts';
import { oracle } from '../../host/model/oracle.ts';
import { deployModel, openTestbed } from '../../host/run/session.ts';
import { loadTestbed } from '../../host/sim/testbed.ts';

export const BOARDS_TESTBED = 'testbeds/boards-timed.json';

export interface BoardsPrediction {
  testbed: string;
  predictedMs: number;
  /** Median latency of the measured inferences, ms. */
  measuredMs: number;
  latenciesMs: number[];
  /** |measured - predicted| / measured. */
  error: number;
  /** Boards whose host could not keep up with their clock (QEMU's align warnings); their timings are not the chip's. */
  behind: string[];
  /** Which devices the plan gave work. */
  devicesUsed: string[];
  /** Bytes/s the plan took for each device's link (the stated rate, or the measured one where lower). */
  linkBytesPerSec: Record<string, number>;
}

const bytes = (d: TensorData) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Deploys `graph` on the boards testbed, runs a warm-up and `n` inferences of `inputFiles` in turn. */
export async function boardsPrediction(graph: Graph, inputFiles: string[], n: number, testbed = BOARDS_TESTBED): Promise<BoardsPrediction> {
  const inputs = inputFiles.map((f) => readInput(f, graph.tensors[graph.inputs[0]]));
  const expected = await Promise.all(inputs.map(async (x) => bytes((await runGraph(oracle, graph, [x]))[0])));
  // Measured links: a board's paced UART moves less than stated when the board (its clock, the host) cannot take bytes that fast, and chunks carry framing.
  const open = await openTestbed(loadTestbed(testbed), undefined, true);
  try {
    const { plan, executor } = await deployModel(graph, open);
    const latencies: number[] = [];
    for (let i = 0; i <= n; i++) {
      const r = await executor.infer([inputs[i % inputs.length]], i);
      if (!bytes(r.outputs[0]).equals(expected[i % inputs.length])) throw new Error(`${testbed}: inference ${i} differs from the oracle`);
      if (i > 0) latencies.push(r.latencyMs);
    }
    const predictedMs = plan.predicted.makespanS * 1000;
    const measuredMs = median(latencies);
    const used = new Set(plan.stages.flatMap((s) => s.fragments.flatMap((f) => f.devices)));
    return { testbed, predictedMs, measuredMs, latenciesMs: latencies, error: Math.abs(measuredMs - predictedMs) / measuredMs, behind: open.testbed.behind(), devicesUsed: [...used], linkBytesPerSec: Object.fromEntries(open.profiles.map((p) => [p.id, Math.round(p.link.bytesPerSec)])) };
  } finally {
    await open.close();
  }
}

const ms = (x: number) => x.toFixed(0);

/** The boards section of bench:e2e and bench:boards: one table row, the links the plan took, and a warning per board that fell behind. */
export function printBoardsPrediction(r: BoardsPrediction): void {
  console.log(`\nperson_detect on ${r.testbed} (QEMU -icount align, clocks as stated, UARTs paced; devices used: ${r.devicesUsed.join(', ')})`);
  printTable(['predicted ms', 'measured ms (median)', '|error|', 'each measured ms'], [[ms(r.predictedMs), ms(r.measuredMs), `${(r.error * 100).toFixed(1)}%`, r.latenciesMs.map(ms).join(' ')]]);
  console.log(`links in the plan, bytes/s: ${Object.entries(r.linkBytesPerSec).map(([id, rate]) => `${id} ${rate}`).join(', ')}`);
  for (const line of r.behind) console.log(`warning: ${line}`);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Its keys in the JSON line of bench:e2e and bench:boards; boards_behind lists boards the host could not keep at their clock. */
export function boardsJson(r: BoardsPrediction | undefined): Record<string, unknown> {
  return {
    prediction_error_boards: r ? round(r.error) : null,
    boards_predicted_ms: r ? round(r.predictedMs) : null,
    boards_measured_ms: r ? round(r.measuredMs) : null,
    boards_behind: r?.behind ?? null,
  };
}
