// Device-to-device routes (host/plan/routes.ts): a route's byte range of the
// producer's output box is exactly the bytes at its offset in the consumer's
// input, as the oracle computes them; routes exist only over direct links
// (or on one device that forwards);
// the cost model counts them.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { loadModel } from '../host/model/load.ts';
import { extractBox } from '../host/run/boxes.ts';
import { inputView, outputView } from '../host/plan/fragments.ts';
import { graphHash, type Plan } from '../host/plan/plan-file.ts';
import { contiguousOffset } from '../host/plan/routes.ts';
import { strategies } from '../host/plan/strategies/index.ts';
import type { DeviceClient } from '../host/link/client.ts';
import { helloProfiles, testbedProfiles } from '../host/run/testbed-profiles.ts';
import { parseTestbed } from '../host/sim/testbed.ts';
import { runPlanWithOracle } from './plan-helpers.ts';

const DIR = 'test/fixtures/person_detect/';
const input = new Int8Array(readFileSync(DIR + 'person_input_int8.bin'));
let graph: Graph;

/** N identical compute-bound TCP devices; with `mesh`, all of them directly linked at the same rate. */
function identical(n: number, rate: number, mesh: boolean) {
  const devices = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, memory: 512 * 1024, speed: { default: 20e6 }, link: { kind: 'tcp', rate, latencyMs: 0.5 } }));
  return parseTestbed({ seed: 1, devices, ...(mesh && { mesh: [{ devices: devices.map((d) => d.id), rate, latencyMs: 0.5 }] }) });
}

async function planFor(n: number, rate: number, mesh: boolean): Promise<Plan> {
  return strategies.microsplit.plan({ graph, model: { name: 'person_detect', sha256: graphHash(graph) }, devices: testbedProfiles(identical(n, rate, mesh)), lambda: 0 });
}

const bytes = (d: TensorData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

beforeAll(async () => {
  graph = await loadModel(DIR + 'person_detect.tflite');
});

describe('contiguousOffset', () => {
  const outer = { start: [0, 4, 0, 0], end: [1, 10, 8, 3] };
  it('row strips with full width and channels are one run', () => {
    expect(contiguousOffset(outer, { start: [0, 6, 0, 0], end: [1, 9, 8, 3] })).toBe(2 * 8 * 3);
  });
  it('a single row cut in width is one run; two rows cut in width are not', () => {
    expect(contiguousOffset(outer, { start: [0, 5, 2, 0], end: [1, 6, 5, 3] })).toBe(8 * 3 + 2 * 3);
    expect(contiguousOffset(outer, { start: [0, 5, 2, 0], end: [1, 7, 5, 3] })).toBeUndefined();
  });
});

describe('routes of person_detect on four directly linked devices', () => {
  it('carry exactly the bytes the consumer reads at their offsets (oracle values)', async () => {
    const plan = await planFor(4, 1e6, true);
    const values = runPlanWithOracle(graph, plan, [input]);
    const frags = plan.stages.flatMap((s) => s.fragments);
    const routes = frags.flatMap((f) => f.forwards.map((r) => ({ f, r })));
    expect(routes.length).toBeGreaterThan(0);
    for (const { f, r } of routes) {
      const to = frags.find((x) => x.id === r.to)!;
      expect(to.devices).toHaveLength(1);
      expect(f.devices).toHaveLength(1);
      // Over a direct link, or kept on a device that forwards.
      const peers = plan.devices.find((d) => d.id === f.devices[0])!.peers!;
      expect(to.devices[0] === f.devices[0] || peers[to.devices[0]] !== undefined).toBe(true);
      const last = f.ops[f.ops.length - 1].op;
      const out = bytes(extractBox(values[f.output.tensor]!, outputView(graph, last), f.output.box));
      const first = to.ops[0].op;
      const parts = to.inputs.map((inp, k) => bytes(extractBox(values[inp.tensor]!, k === 0 ? inputView(graph, first) : graph.tensors[inp.tensor].shape, inp.box)));
      const inBytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      parts.reduce((at, p) => (inBytes.set(p, at), at + p.length), 0);
      expect(r.outOffset + r.bytes).toBeLessThanOrEqual(out.length);
      expect(r.inOffset + r.bytes).toBeLessThanOrEqual(inBytes.length);
      expect(Buffer.from(out.subarray(r.outOffset, r.outOffset + r.bytes)).equals(inBytes.subarray(r.inOffset, r.inOffset + r.bytes))).toBe(true);
    }
  });

  it('exist only over direct links, and the model predicts no later finish with them', async () => {
    const star = await planFor(4, 1e6, false);
    expect(star.stages.flatMap((s) => s.fragments).every((f) => f.forwards.length === 0)).toBe(true);
    const mesh = await planFor(4, 1e6, true);
    expect(mesh.predicted.makespanS).toBeLessThanOrEqual(star.predicted.makespanS);
  });
});

describe('testbed mesh groups', () => {
  it('refuse serial devices, unknown ids and a device in two groups with one line naming them', () => {
    const dev = (id: string, kind: string) => ({ id, memory: 65536, speed: { default: 1e6 }, link: { kind, rate: 1e6 } });
    const devices = [dev('a', 'tcp'), dev('b', 'pty'), dev('c', 'tcp')];
    expect(() => parseTestbed({ devices, mesh: [{ devices: ['a', 'b'], rate: 1e6 }] })).toThrow(/mesh.0.devices.1: device b is not a simulated TCP device: serial links and boards stay star/);
    expect(() => parseTestbed({ devices, mesh: [{ devices: ['a', 'x'], rate: 1e6 }] })).toThrow(/mesh.0.devices.1: unknown device x/);
    expect(() => parseTestbed({ devices, mesh: [{ devices: ['a', 'c'], rate: 1e6 }, { devices: ['c', 'a'], rate: 1e6 }] })).toThrow(/mesh.1.devices.0: device c is in two mesh groups/);
  });
});

describe('a device whose HELLO says it does not forward', () => {
  it('loses its direct links in the planner\'s profiles, so no route touches it', async () => {
    const tb = identical(4, 1e6, true);
    const hello = (mesh: number) => ({ info: { mesh, budget: 400_000, overhead: 20_000 } }) as unknown as DeviceClient;
    const clients = new Map([
      ['n0', hello(4000)],
      ['n1', hello(0)],
      ['n2', hello(4001)],
      ['n3', hello(4002)],
    ]);
    const profiles = helloProfiles(testbedProfiles(tb), clients);
    expect(profiles[1].peers).toBeUndefined();
    expect(profiles.filter((p) => p.id !== 'n1').map((p) => Object.keys(p.peers ?? {}).sort())).toEqual([
      ['n2', 'n3'],
      ['n0', 'n3'],
      ['n0', 'n2'],
    ]);
    const plan = await strategies.microsplit.plan({ graph, model: { name: 'person_detect', sha256: graphHash(graph) }, devices: profiles, lambda: 0 });
    const frags = plan.stages.flatMap((s) => s.fragments);
    const routes = frags.flatMap((f) => f.forwards.map((r) => [f.devices[0], frags.find((x) => x.id === r.to)!.devices[0]]));
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.filter((pair) => pair.includes('n1'))).toEqual([]);
  });
});
