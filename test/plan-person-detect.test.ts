// The real model: TFLite Micro's person_detect planned for the demo devices
// (none holds it alone), run fragment by fragment through the oracle, gives
// TFLM's output; `inspect` explains its single-device arena; too few devices
// give the one-line error with the smallest fix.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../host/model/ir.ts';
import { loadModel } from '../host/model/load.ts';
import { oracle } from '../host/model/oracle.ts';
import type { PlanRequest } from '../host/plan/assemble.ts';
import { fewestDevices, inspectModel } from '../host/plan/inspect.ts';
import { graphHash } from '../host/plan/plan-file.ts';
import { loadDevices, parseDevices } from '../host/plan/profiles.ts';
import { strategies } from '../host/plan/strategies/index.ts';
import { coverageProblems, runPlanWithOracle } from './plan-helpers.ts';

const DIR = 'test/fixtures/person_detect/';
let graph: Graph;
let req: PlanRequest;
const input = new Int8Array(readFileSync(DIR + 'person_input_int8.bin'));

beforeAll(async () => {
  graph = await loadModel(DIR + 'person_detect.tflite');
  req = { graph, model: { name: 'person_detect', sha256: graphHash(graph) }, devices: loadDevices('devices/demo.json'), lambda: 0 };
});

describe('person_detect on the demo devices', () => {
  it.each(['microsplit', 'layerwise'])('a %s plan runs fragment by fragment to TFLM output [-113, 113]', async (name) => {
    const plan = await strategies[name].plan(req);
    expect(coverageProblems(graph, plan)).toEqual([]);
    for (const m of plan.memory) expect(m.peak).toBeLessThanOrEqual(m.budget);
    const out = runPlanWithOracle(graph, plan, [input])[graph.outputs[0]];
    expect(Array.from(out!)).toEqual([-113, 113]);
  });

  it.each([
    { name: 'ftp-grid', split: 'grid tiles of fused stacks' },
    { name: 'equal', split: 'rows of every layer' },
  ])('$name plans ($split) stitch bit-exact with the whole model', async ({ name }) => {
    // Forced splits with halos, on devices large enough for the weights these baselines replicate.
    const big = parseDevices({ devices: req.devices.slice(0, 4).map((d) => ({ ...d, budget: 400 * 1024 })) });
    const plan = await strategies[name].plan({ ...req, devices: big });
    expect(plan.stages.filter((s) => s.fragments.length > 1).length).toBeGreaterThan(0);
    const whole = await oracle.runAll(graph, [input]);
    const split = runPlanWithOracle(graph, plan, [input]);
    for (const s of plan.stages) {
      const t = graph.ops[s.ops[s.ops.length - 1]].outputs[0];
      expect(split[t]).toEqual(whole[t]);
    }
  });
});

describe('inspect person_detect', () => {
  it('explains the peak: the largest live activation sum plus the parameters', () => {
    const r = inspectModel(graph);
    // Figures from the model's README (TFLM's own numbers), not from this code.
    expect(r.maxLiveBytes).toBe(55_296);
    expect(r.weightBytes).toBe(218_928);
    expect(r.activationBytes).toBe(r.maxLiveBytes);
    expect(r.peakBytes).toBe(r.activationBytes + r.paramBytes);
    expect(r.paramBytes).toBeGreaterThan(r.weightBytes);
    expect(r.layers[r.maxLiveOp]).toMatchObject({ kind: 'CONV_2D', output: [1, 48, 48, 16] });
  });

  it('too few 64K devices: the error names the worst device and suggests one more', async () => {
    const like = parseDevices({ devices: [{ id: 'd', budget: '64K', macPerSec: { default: 1e7 }, link: { bytesPerSec: 1e6, latencyS: 0.001 }, energy: { joulesPerMac: 1e-9, joulesPerByteSent: 0, joulesPerByteReceived: 0, idleWatts: 0 } }] })[0];
    const n = fewestDevices(graph, like, inspectModel(graph).paramBytes);
    expect(n).not.toBeNull();
    const devices = Array.from({ length: n! - 1 }, (_, i) => ({ ...like, id: `d${i}` }));
    await expect(strategies.microsplit.plan({ ...req, devices })).rejects.toThrow(/^no microsplit plan fits: device "d\d+" is [\d,]+ bytes short .*; smallest change: add one more device like "d0" \(budget 65,536\)$/);
  });
});
