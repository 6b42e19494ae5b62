// The cost model's fixed costs: the receive window that slows transfers to a
// device (chunk by chunk), the gateway's own time per RUN and the per-RUN
// overhead, each checked against its closed form.
import { describe, expect, it } from 'vitest';
import { objectiveFor, opSpeedKey, scheduleDataflow, scheduleStage, sendSeconds, timing, type Work } from '../host/plan/cost.ts';
import { buildModel } from '../host/plan/synthetic.ts';
import { DeviceProfileSchema, type DeviceProfile } from '../host/plan/profiles.ts';

function device(link: { bytesPerSec: number; latencyS: number; windowBytes?: number }, runOverheadS = 0): DeviceProfile {
  return DeviceProfileSchema.parse({
    id: 'd',
    budget: 65536,
    macPerSec: { default: 1e6 },
    link,
    runOverheadS,
    energy: { joulesPerMac: 0, joulesPerByteSent: 0, joulesPerByteReceived: 0, idleWatts: 0 },
  });
}

const work: Work = { macs: [{ kind: 'CONV_2D', macs: 2000 }], totalMacs: 2000, inBytes: 8192, outBytes: 1000 };

describe('cost model fixed costs', () => {
  it('sends at the line rate without a window or within two chunks, and at two chunks per chunk time plus round trip when the window runs dry first', () => {
    expect(sendSeconds(device({ bytesPerSec: 500_000, latencyS: 0.003 }), 8192)).toBe(8192 / 500_000);
    // Chunks of 4096 / 2 - 32 = 2016 tile bytes (a full one takes 2048 bytes of line): two leave at once.
    expect(sendSeconds(device({ bytesPerSec: 500_000, latencyS: 0.003, windowBytes: 4096 }), 4032)).toBeCloseTo(0.004096 + 2016 / 500_000, 12);
    // 8192 bytes: 5 chunks; chunks 2 and 4 wait for the acknowledgements of 0 and 2, each pair
    // taking 2048 / 500000 + 0.006 s; the last chunk carries 8192 - 4 x 2016 = 128 bytes.
    expect(sendSeconds(device({ bytesPerSec: 500_000, latencyS: 0.003, windowBytes: 4096 }), 8192)).toBeCloseTo(2 * (0.004096 + 0.006) + 128 / 500_000, 12);
    // A short round trip leaves the line the bottleneck.
    expect(sendSeconds(device({ bytesPerSec: 100_000, latencyS: 0.0001, windowBytes: 4096 }), 8192)).toBeCloseTo(2 * 0.04096 + 128 / 100_000, 12);
  });

  it('charges each RUN its fixed overhead beside its MACs, and each transfer its latency and bytes', () => {
    const d = device({ bytesPerSec: 500_000, latencyS: 0.003, windowBytes: 4096 }, 0.0015);
    const t = timing(d, work);
    expect(t.computeS).toBeCloseTo(0.0015 + 2000 / 1e6, 12);
    expect(t.sendS).toBeCloseTo(0.003 + sendSeconds(d, 8192), 12);
    expect(t.returnS).toBeCloseTo(0.003 + 1000 / 500_000, 12);
  });

  it('defaults the overheads to 0 for profiles written before they existed', () => {
    expect(device({ bytesPerSec: 1, latencyS: 0 }).runOverheadS).toBe(0);
    expect(device({ bytesPerSec: 1, latencyS: 0 }).gatewayS).toBe(0);
  });

  it("queues RUNs sent together for the gateway's own time, one RUN at a time, in a stage and in dataflow", () => {
    const d = { ...device({ bytesPerSec: 1e6, latencyS: 0.001 }), gatewayS: 0.0005 };
    const devices = [d, { ...d, id: 'e' }, { ...d, id: 'f' }];
    const one = timing(d, work);
    const runS = one.sendS + one.computeS + one.returnS;
    const frags = devices.map((_, i) => ({ work, devices: [i] }));
    const stage = scheduleStage(devices, frags, 0);
    expect(stage.fragments.map((f) => f.start)).toEqual([0, 0.0005, 0.001]);
    expect(stage.end).toBeCloseTo(0.0015 + runS, 12);
    const o = objectiveFor(buildModel({ name: 'o', seed: 1, input: [2, 2, 1], layers: [{ kind: 'conv', out: 1, k: 1 }] }), devices, 0);
    const flow = scheduleDataflow(devices, [frags], frags.map((_, i) => ({ stage: 0, fragment: i, deps: [] })), o);
    expect(flow.stages[0].fragments.map((f) => f.start)).toEqual([0, 0.0005, 0.001]);
    expect(flow.makespanS).toBeCloseTo(0.0015 + runS, 12);
  });
});

describe('speed keys', () => {
  it('prices a 1x1 convolution at CONV_2D_1X1 and any other window at CONV_2D', () => {
    const g = buildModel({ name: 'k', seed: 3, input: [8, 8, 4], layers: [{ kind: 'conv', out: 4, k: 1 }, { kind: 'conv', out: 4, k: 3 }, { kind: 'dw', k: 1 }] });
    expect(g.ops.map((_, i) => opSpeedKey(g, i))).toEqual(['CONV_2D_1X1', 'CONV_2D', 'DEPTHWISE_CONV_2D']);
    const d = { ...device({ bytesPerSec: 1e6, latencyS: 0 }), macPerSec: { default: 1e6, CONV_2D: 2e6, CONV_2D_1X1: 4e6 } };
    const t = timing(d, { macs: [{ kind: 'CONV_2D_1X1', macs: 4000 }, { kind: 'CONV_2D', macs: 4000 }], totalMacs: 8000, inBytes: 0, outBytes: 0 });
    expect(t.computeS).toBeCloseTo(4000 / 4e6 + 4000 / 2e6, 12);
  });
});
