// The planner never misses a plan `inspect` counted: a MobileNet-style model
// of about 1 MB (30 ops, a 1x1 conv of 264 KB) on 128 KB devices, where the
// search once found a plan on nine devices and none on ten. Whenever
// `inspect --budget` says k devices suffice, every set of at least k devices
// of at least that budget gets a plan, bit-exact with the whole model.
import { describe, expect, it } from 'vitest';
import { oracle } from '../host/model/oracle.ts';
import type { PlanRequest } from '../host/plan/assemble.ts';
import { fewestDevices, inspectModel } from '../host/plan/inspect.ts';
import { graphHash } from '../host/plan/plan-file.ts';
import { referenceDevice, type DeviceProfile } from '../host/plan/profiles.ts';
import { microsplit } from '../host/plan/strategies/microsplit.ts';
import { buildModel, type LayerSpec, type ModelSpec } from '../host/plan/synthetic.ts';
import { seededRandom } from '../host/random.ts';
import { coverageProblems, int8Input, runPlanWithOracle } from './plan-helpers.ts';

/** conv 3x3/2, twelve depthwise + pointwise pairs up to 512 channels, pool, two FCs, softmax. */
function mobilenetStyle(): ModelSpec {
  const layers: LayerSpec[] = [{ kind: 'conv', out: 32, k: 3, stride: 2 }];
  const pointwise: [number, number][] = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [256, 1], [256, 1], [256, 1], [256, 1], [256, 1], [512, 2], [512, 1]];
  for (const [out, stride] of pointwise) layers.push({ kind: 'dw', k: 3, stride }, { kind: 'conv', out, k: 1 });
  layers.push({ kind: 'avgpool', k: 2, stride: 1, padding: 'VALID' }, { kind: 'reshape' }, { kind: 'fc', units: 100 }, { kind: 'fc', units: 10 }, { kind: 'softmax' });
  return { name: 'mobilenet-style', seed: 1, input: [32, 32, 3], layers };
}

const BUDGET = 128 * 1024;
const graph = buildModel(mobilenetStyle());
const report = inspectModel(graph);
const request = (devices: DeviceProfile[]): PlanRequest => ({ graph, model: { name: graph.name!, sha256: graphHash(graph) }, devices, lambda: 0, suggestFix: false });

/** n devices of at least BUDGET, speeds and links spread over 4x, drawn from `seed`. */
function mixedDevices(n: number, seed: number): DeviceProfile[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const base = referenceDevice(BUDGET + Math.round(rand() * 64) * 1024, `m${i}`);
    return { ...base, macPerSec: { default: 5e6 * (1 + 3 * rand()) }, link: { bytesPerSec: 2.5e5 * (1 + 3 * rand()), latencyS: 0.001 } };
  });
}

describe('the planner finds every plan inspect counts', () => {
  it('builds the case: about 1 MB of int8 weights, 30 ops, a 1x1 conv of 264 KB', () => {
    expect(graph.ops.length).toBe(30);
    expect(report.weightBytes).toBeGreaterThan(900_000);
    expect(Math.max(...report.layers.map((l) => l.weightBytes))).toBe(264_192);
  });

  const fewest = fewestDevices(graph, referenceDevice(BUDGET), report.paramBytes);

  it('inspect counts at most ten 128 KB devices', () => {
    expect(fewest).not.toBeNull();
    expect(fewest!).toBeLessThanOrEqual(10);
  });

  it.each([0, 1, 2, 4])('plans on the counted number of 128 KB devices plus %i', async (extra) => {
    const devices = Array.from({ length: fewest! + extra }, (_, i) => referenceDevice(BUDGET, `d${i}`));
    const plan = await microsplit.plan(request(devices));
    for (const m of plan.memory) expect(m.peak).toBeLessThanOrEqual(m.budget);
  });

  it.each([11, 12])('plans on twelve devices of 128 to 192 KB, mixed speeds (seed %i), bit-exact', async (seed) => {
    const devices = mixedDevices(12, seed);
    const plan = await microsplit.plan(request(devices));
    for (const m of plan.memory) expect(m.peak).toBeLessThanOrEqual(m.budget);
    expect(coverageProblems(graph, plan)).toEqual([]);
    const input = int8Input(graph, seed);
    const whole = await oracle.runAll(graph, [input]);
    expect(runPlanWithOracle(graph, plan, [input])[graph.outputs[0]]).toEqual(whole[graph.outputs[0]]);
  });
});
