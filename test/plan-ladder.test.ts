// The planner's ladder. It never misses a plan `inspect` counted: a
// MobileNet-style model of about 1 MB (30 ops, a 1x1 conv of 264 KB) on
// 128 KB devices, where the search once found a plan on nine devices and none
// on ten. Whenever `inspect --budget` says k devices suffice, every set of at
// least k devices of at least that budget gets a plan, bit-exact with the
// whole model. And more devices never make the prediction worse (beyond the
// tolerance traded for fewer devices), nor are devices used that do not pay.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../host/model/load.ts';
import { oracle } from '../host/model/oracle.ts';
import type { PlanRequest } from '../host/plan/assemble.ts';
import { fewestDevices, inspectModel } from '../host/plan/inspect.ts';
import { InfeasibleError } from '../host/plan/memory.ts';
import { graphHash, planDevices, type Plan } from '../host/plan/plan-file.ts';
import { referenceDevice, type DeviceProfile } from '../host/plan/profiles.ts';
import { strategies } from '../host/plan/strategies/index.ts';
import { FEWER_DEVICES_TOLERANCE, microsplit } from '../host/plan/strategies/microsplit.ts';
import { buildModel, randomModelSpec, syntheticDevices, type LayerSpec, type LinkClass, type ModelSpec } from '../host/plan/synthetic.ts';
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
const requestFor = (g: typeof graph, devices: DeviceProfile[]): PlanRequest => ({ graph: g, model: { name: g.name!, sha256: graphHash(g) }, devices, lambda: 0, suggestFix: false });
const request = (devices: DeviceProfile[]) => requestFor(graph, devices);

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

/** The plan, or null when none fits. */
async function planOrNull(req: PlanRequest): Promise<Plan | null> {
  return microsplit.plan(req).catch((e: unknown) => {
    if (e instanceof InfeasibleError) return null;
    throw e;
  });
}

/** bench:e2e's scaling testbed: N x 20 M MAC/s, 512 KB, 10 MB/s at 0.5 ms, 2 ms per RUN. */
const computeBound = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...referenceDevice(512 * 1024, `n${i}`), macPerSec: { default: 20e6 }, link: { bytesPerSec: 10e6, latencyS: 0.0005 }, runOverheadS: 0.002 }));

describe('person_detect on 1 to 8 identical compute-bound devices', async () => {
  const pd = await loadModel('test/fixtures/person_detect/person_detect.tflite');
  const plans: Plan[] = [];
  for (let n = 1; n <= 8; n++) plans.push(await microsplit.plan(requestFor(pd, computeBound(n))));
  const ms = plans.map((p) => p.predicted.makespanS);

  it('one more device never makes the prediction worse by more than the tolerance for fewer devices', () => {
    for (let n = 1; n < plans.length; n++) expect(ms[n], `${n + 1} devices`).toBeLessThanOrEqual(ms[n - 1] * (1 + FEWER_DEVICES_TOLERANCE) + 1e-12);
  });

  it('eight devices are never predicted slower than four', () => expect(ms[7]).toBeLessThanOrEqual(ms[3]));

  it('uses no more devices than pay: a plan on fewer devices is predicted slower', () => {
    plans.forEach((p, i) => {
      const used = planDevices(p).length;
      for (let k = 1; k < used; k++) expect(ms[k - 1], `${k} devices against ${used} used of ${i + 1}`).toBeGreaterThan(ms[i]);
    });
  });
});

describe('one more device on random models and devices', () => {
  const drawn = fc.record({
    model: fc.integer({ min: 1, max: 1_000_000 }),
    devices: fc.integer({ min: 1, max: 5 }),
    level: fc.integer({ min: 0, max: 5 }),
    link: fc.constantFrom<LinkClass>('uart-115200', 'uart-2M', 'wifi-1MBps'),
    budgetScale: fc.constantFrom(0.05, 0.2, 1),
    identical: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1000 }),
  });

  it('never makes the predicted latency worse by more than the tolerance, and what fitted still fits', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(drawn, async (r) => {
        const g = buildModel(randomModelSpec(r.model, 6));
        const scale = (d: DeviceProfile) => ({ ...d, budget: Math.max(1024, Math.round(d.budget * r.budgetScale)) });
        const set = r.identical
          ? Array.from({ length: r.devices }, (_, i) => ({ ...scale(syntheticDevices(1, 0, r.link, r.seed)[0]), id: `d${i}` }))
          : syntheticDevices(r.devices, r.level, r.link, r.seed).map(scale);
        // The newcomer is the slowest and smallest (last in every device order), or one more copy.
        const last = set[set.length - 1];
        const slowest = (k: (d: DeviceProfile) => number) => Math.min(...set.map(k));
        const extra: DeviceProfile = r.identical
          ? { ...last, id: 'new' }
          : {
              ...last,
              id: 'new',
              budget: slowest((d) => d.budget),
              macPerSec: { default: 0.9 * slowest((d) => d.macPerSec.default), DEPTHWISE_CONV_2D: 0.9 * slowest((d) => d.macPerSec.DEPTHWISE_CONV_2D ?? d.macPerSec.default) },
              link: { ...last.link, bytesPerSec: 0.9 * slowest((d) => d.link.bytesPerSec) },
            };
        const before = await planOrNull(requestFor(g, set));
        if (!before) return;
        const after = await planOrNull(requestFor(g, [...set, extra]));
        expect(after).not.toBeNull();
        compared++;
        expect(after!.predicted.makespanS).toBeLessThanOrEqual(before.predicted.makespanS * (1 + FEWER_DEVICES_TOLERANCE) + 1e-12);
      }),
      { numRuns: 30, seed: 7 },
    );
    expect(compared).toBeGreaterThan(10);
  });

  it('is never predicted slower than the single or layerwise baseline beyond the tolerance', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(drawn, async (r) => {
        const g = buildModel(randomModelSpec(r.model, 6));
        const devices = syntheticDevices(r.devices, r.level, r.link, r.seed).map((d) => ({ ...d, budget: Math.max(1024, Math.round(d.budget * r.budgetScale)) }));
        const ours = await planOrNull(requestFor(g, devices));
        for (const name of ['single', 'layerwise']) {
          const base = await strategies[name].plan(requestFor(g, devices)).catch((e: unknown) => {
            if (e instanceof InfeasibleError) return null;
            throw e;
          });
          if (!base) continue;
          compared++;
          expect(ours, `${name} fits`).not.toBeNull();
          expect(ours!.predicted.makespanS).toBeLessThanOrEqual(base.predicted.makespanS * (1 + FEWER_DEVICES_TOLERANCE) + 1e-12);
        }
      }),
      { numRuns: 30, seed: 11 },
    );
    expect(compared).toBeGreaterThan(10);
  });
});
