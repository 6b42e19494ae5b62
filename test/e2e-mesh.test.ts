// Device-to-device forwarding end to end (docs/protocol.md section 3, items
// 6-7): simulated devices in a testbed mesh group forward their output rows
// straight to the devices that read them, over loopback TCP, while the PTY
// devices beside them stay star. Every output equals the oracle's byte for
// byte; the gateway sends fewer input bytes than the fragments read (the
// rest came from devices); keyed devices forward chunks tagged under each
// run's route key, which their agents check; a device that crashes mid-run
// after forwarding leaves outputs still right.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, TensorData } from '../host/model/ir.ts';
import { loadModel } from '../host/model/load.ts';
import type { Plan } from '../host/plan/plan-file.ts';
import { deployModel, makePlan, openTestbed, type OpenTestbed } from '../host/run/session.ts';
import { testbedProfiles } from '../host/run/testbed-profiles.ts';
import { parseTestbed, type Testbed } from '../host/sim/testbed.ts';
import { bytes, childPids, closeAndListLeftovers, oracleOutputs, PERSON_DETECT, personDetectInputs } from './e2e-fixture.ts';

const fast = (id: string, kind: 'pty' | 'tcp', memory = '256K') => ({ id, memory, speed: { default: 100e6 }, link: { kind, rate: 2e6, latencyMs: 0.5 }, receiveWindow: 4096 });

/** Three TCP devices directly linked, two on PTYs (serial: star). */
const MIXED = parseTestbed({
  name: 'mesh: three linked TCP devices beside two PTY devices',
  seed: 3,
  // Too little memory for the model on the three linked devices alone.
  devices: [fast('tcp-a', 'tcp', '100K'), fast('tcp-b', 'tcp', '100K'), fast('tcp-c', 'tcp', '100K'), fast('pty-d', 'pty', '100K'), fast('pty-e', 'pty', '100K')],
  mesh: [{ devices: ['tcp-a', 'tcp-b', 'tcp-c'], rate: 2e6, latencyMs: 0.5 }],
});

const allForwards = (plan: Plan) => plan.stages.flatMap((s) => s.fragments.flatMap((f) => f.forwards.map((r) => ({ from: f, r, to: s && plan.stages.flatMap((x) => x.fragments).find((x) => x.id === r.to)! }))));
/** Bytes the gateway sent all devices so far. */
const sentBytes = (open: OpenTestbed) => [...open.clients.values()].reduce((a, c) => a + c.stats.bytesOut, 0);

let graph: Graph;
let inputs: TensorData[];
let expected: Buffer[];
beforeAll(async () => {
  graph = await loadModel(PERSON_DETECT);
  inputs = personDetectInputs(graph, 8);
  expected = await oracleOutputs(graph, inputs);
});

describe('person_detect on three linked TCP devices and two PTY devices', () => {
  let open: OpenTestbed;
  let childrenBefore: number[];
  beforeAll(async () => {
    childrenBefore = childPids();
    open = await openTestbed(MIXED);
  }, 60_000);
  afterAll(() => open?.close());

  it('forwards between the linked devices only, the gateway sends less than the fragments read, and every output is the oracle\'s', async () => {
    // The linked devices' hosts say in HELLO where they take forwarded chunks; the PTY devices' do not.
    expect(Object.fromEntries([...open.clients].map(([id, c]) => [id, c.info.mesh > 0]))).toEqual({ 'tcp-a': true, 'tcp-b': true, 'tcp-c': true, 'pty-d': false, 'pty-e': false });
    const { plan, executor } = await deployModel(graph, open);
    const routes = allForwards(plan);
    expect(routes.length).toBeGreaterThan(0);
    for (const { from, to } of routes) expect([...from.devices, ...to.devices].every((d) => d.startsWith('tcp-')), `${from.id} -> ${to.id}`).toBe(true);
    // Serial devices take part in the plan, through the gateway.
    expect(plan.stages.some((s) => s.fragments.some((f) => f.devices[0].startsWith('pty-')))).toBe(true);

    const before = sentBytes(open);
    const results = await executor.inferMany(
      inputs.map((x) => [x]),
      2,
    );
    expect(results.map((r) => bytes(r.outputs[0]))).toEqual(expected);
    const inputBytes = plan.stages.reduce((a, s) => a + s.fragments.reduce((b, f) => b + f.inBytes, 0), 0) * inputs.length;
    const forwarded = routes.reduce((a, x) => a + x.r.bytes, 0) * inputs.length;
    // Star, the gateway sends every input byte plus frame headers; here the forwarded bytes came from devices.
    expect(sentBytes(open) - before).toBeLessThan(inputBytes);
    expect(sentBytes(open) - before).toBeGreaterThan(inputBytes - forwarded);
    expect(executor.unhealthy.size).toBe(0);
  }, 120_000);

  it('leaves no process behind when closed', async () => {
    expect(await closeAndListLeftovers([open], childrenBefore)).toEqual([]);
  });
});

describe('a forwarding device crashes mid-run', () => {
  it('every output still equals the oracle\'s: its work is re-dispatched and lost forwards are sent by the gateway', async () => {
    const linked = (id: string) => fast(id, 'tcp');
    const healthy: Testbed = parseTestbed({ seed: 5, devices: ['m0', 'm1', 'm2', 'm3'].map(linked), mesh: [{ devices: ['m0', 'm1', 'm2', 'm3'], rate: 2e6, latencyMs: 0.5 }] });
    const plan = await makePlan(graph, testbedProfiles(healthy));
    // The device that forwards most crashes after its 10th RESULT (inside the second or third inference).
    const counts = new Map<string, number>();
    for (const { from } of allForwards(plan)) counts.set(from.devices[0], (counts.get(from.devices[0]) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const faulty = parseTestbed({ ...healthy, devices: healthy.devices.map((d) => (d.id === victim ? { ...d, faults: { crashAfterRuns: 10 } } : d)) });
    const open = await openTestbed(faulty);
    try {
      const { executor } = await deployModel(graph, open, {}, plan);
      const outputs: Buffer[] = [];
      for (const x of inputs.slice(0, 5)) outputs.push(bytes((await executor.infer([x])).outputs[0]));
      expect(outputs).toEqual(expected.slice(0, 5));
      expect([...executor.unhealthy]).toEqual([victim]);
    } finally {
      await open.close();
    }
  }, 120_000);
});

describe('person_detect on three keyed linked TCP devices', () => {
  it('forwarded chunks pass the consumers\' route-key checks: outputs equal the oracle\'s, no refusal, less sent by the gateway', async () => {
    const keyedDevice = (id: string, k: number) => ({ ...fast(id, 'tcp', '160K'), keyHex: String(k).repeat(32) });
    const tb = parseTestbed({ seed: 9, devices: [keyedDevice('k0', 1), keyedDevice('k1', 2), keyedDevice('k2', 3)], mesh: [{ devices: ['k0', 'k1', 'k2'], rate: 2e6, latencyMs: 0.5 }] });
    const open = await openTestbed(tb);
    try {
      const { plan, executor } = await deployModel(graph, open);
      const routes = allForwards(plan);
      expect(routes.length).toBeGreaterThan(0);
      const before = sentBytes(open);
      const outputs: Buffer[] = [];
      for (const x of inputs.slice(0, 4)) outputs.push(bytes((await executor.infer([x])).outputs[0]));
      expect(outputs).toEqual(expected.slice(0, 4));
      const inputBytes = plan.stages.reduce((a, s) => a + s.fragments.reduce((b, f) => b + f.inBytes, 0), 0) * 4;
      expect(sentBytes(open) - before).toBeLessThan(inputBytes);
      for (const [id, c] of open.clients) {
        expect(c.stats.forgedReplies, id).toBe(0);
        expect((await c.hello()).authFailures, id).toBe(0);
      }
    } finally {
      await open.close();
    }
  }, 120_000);
});
