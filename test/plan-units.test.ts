// The planner's building blocks, by example and by property: the arena
// offset planner, Kuhn-Munkres, range splitting, tile geometry, byte sizes,
// device profile validation, follow-the-leader grouping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuseBackward, inputTiles, splitRange } from '../host/plan/fragments.ts';
import { fragmentActivationBytes, fragmentParamBytes } from '../host/plan/layout.ts';
import { hungarian } from '../host/plan/hungarian.ts';
import { deviceMemory, memoryDiagram } from '../host/plan/memory.ts';
import { findOverlap, maxLiveBytes, planOffsets, type Buffer } from '../host/plan/offsets.ts';
import { parseBytes, parseDevices, referenceDevice } from '../host/plan/profiles.ts';
import { graphHash } from '../host/plan/plan-file.ts';
import { strategies } from '../host/plan/strategies/index.ts';
import { followTheLeader } from '../host/plan/strategies/replicated.ts';
import { buildModel, syntheticDevices } from '../host/plan/synthetic.ts';

describe('planOffsets (greedy, after TFLM)', () => {
  it('reuses the space of a buffer that is no longer live', () => {
    // a [0,1], b [1,2], c [2,3]: c can take a's place.
    const buffers: Buffer[] = [
      { size: 100, first: 0, last: 1 },
      { size: 50, first: 1, last: 2 },
      { size: 100, first: 2, last: 3 },
    ];
    const plan = planOffsets(buffers);
    expect(plan.offsets).toEqual([0, 100, 0]);
    expect(plan.highWater).toBe(150);
  });

  it('stacks buffers live at the same time, largest first', () => {
    const plan = planOffsets([
      { size: 10, first: 0, last: 0 },
      { size: 30, first: 0, last: 0 },
    ]);
    expect(plan.offsets).toEqual([30, 0]);
    expect(plan.highWater).toBe(40);
  });

  const buffers = fc.array(
    fc.record({ size: fc.integer({ min: 0, max: 500 }), first: fc.integer({ min: 0, max: 8 }), len: fc.integer({ min: 0, max: 4 }) }).map((b) => ({ size: b.size, first: b.first, last: b.first + b.len })),
    { maxLength: 20 },
  );

  it('never overlaps live buffers and needs at least the largest live sum', () => {
    fc.assert(
      fc.property(buffers, (bs) => {
        const plan = planOffsets(bs);
        expect(findOverlap(bs, plan.offsets)).toBeNull();
        expect(plan.highWater).toBeGreaterThanOrEqual(maxLiveBytes(bs));
        expect(plan.highWater).toBeLessThanOrEqual(bs.reduce((s, b) => s + b.size, 0));
      }),
    );
  });

  it('the overlap check catches a clash', () => {
    expect(findOverlap([{ size: 8, first: 0, last: 2 }, { size: 8, first: 2, last: 3 }], [0, 4])).toEqual([0, 1]);
  });
});

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('hungarian', () => {
  it('finds the cheapest assignment of a small example', () => {
    expect(hungarian([[4, 1, 3], [2, 0, 5], [3, 2, 2]])).toEqual([1, 0, 2]);
  });

  it('matches brute force over all permutations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }).chain((n) => fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: n, maxLength: n }), { minLength: n, maxLength: n })), (m) => {
        const cost = (a: number[]) => a.reduce((s, c, r) => s + m[r][c], 0);
        const best = Math.min(...permutations(m.length).map(cost));
        const a = hungarian(m);
        expect([...a].sort((x, y) => x - y)).toEqual(m.map((_, i) => i));
        expect(cost(a)).toBe(best);
      }),
    );
  });

  it('refuses a matrix that is not square', () => {
    expect(() => hungarian([[1, 2]])).toThrow(/must be square/);
  });
});

describe('splitRange', () => {
  it.each([
    { n: 10, shares: [1, 1], parts: [[0, 5], [5, 10]] },
    { n: 10, shares: [3, 1], parts: [[0, 8], [8, 10]] },
    { n: 2, shares: [1, 1, 1], parts: [[0, 1], [1, 2], [2, 2]] },
  ])('$n units by shares $shares', ({ n, shares, parts }) => {
    expect(splitRange(n, shares)).toEqual(parts);
  });

  it('always tiles [0, n) in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 1, maxLength: 12 }), (n, shares) => {
        const parts = splitRange(n, shares);
        expect(parts.length).toBe(shares.length);
        parts.forEach(([a, b], i) => {
          expect(a).toBe(i === 0 ? 0 : parts[i - 1][1]);
          expect(b).toBeGreaterThanOrEqual(a);
        });
        expect(parts[parts.length - 1][1]).toBe(n);
      }),
    );
  });
});

describe('inputTiles', () => {
  // One 3x3 conv, stride 2, SAME, on 9x9x2 -> 5x5x4: pad top/left = 1.
  const g = buildModel({ name: 't', seed: 1, input: [9, 9, 2], layers: [{ kind: 'conv', out: 4, k: 3, stride: 2 }, { kind: 'dw', k: 3, mult: 2 }] });
  it.each([
    { name: 'top rows: the halo is clipped at the border', out: { start: [0, 0, 0, 0], end: [1, 2, 5, 4] }, tile: { start: [0, 0, 0, 0], end: [1, 4, 9, 2] } },
    { name: 'middle rows read stride x rows plus the kernel', out: { start: [0, 2, 0, 1], end: [1, 4, 5, 3] }, tile: { start: [0, 3, 0, 0], end: [1, 8, 9, 2] } },
    { name: 'bottom row', out: { start: [0, 4, 1, 0], end: [1, 5, 2, 4] }, tile: { start: [0, 7, 1, 0], end: [1, 9, 4, 2] } },
  ])('conv: $name', ({ out, tile }) => {
    expect(inputTiles(g, 0, out)[0]).toEqual(tile);
  });

  it('depthwise reads only the input channels of its output channels', () => {
    // Output channels [3, 6) with depth multiplier 2 come from input channels 1 and 2.
    expect(inputTiles(g, 1, { start: [0, 0, 0, 3], end: [1, 5, 5, 6] })[0]).toEqual({ start: [0, 0, 0, 1], end: [1, 5, 5, 3] });
  });
});

describe('device profiles', () => {
  it.each([
    ['65536', 65536],
    ['64k', 65536],
    ['96K', 98304],
    ['1.5M', 1572864],
    ['64KiB', 65536],
  ])('parseBytes(%s) = %i', (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it('refuses a bad size in one line', () => expect(() => parseBytes('lots')).toThrow(/^bad byte size "lots"/));

  const valid = { id: 'a', budget: '64K', macPerSec: { default: 1e6 }, link: { bytesPerSec: 1e5, latencyS: 0.001 }, energy: { joulesPerMac: 1e-9, joulesPerByteSent: 1e-8, joulesPerByteReceived: 1e-8, idleWatts: 0.01 } };
  it('fills defaults', () => {
    const [d] = parseDevices({ devices: [valid] });
    expect(d).toMatchObject({ budget: 65536, reservedBytes: 0, failureProb: 0 });
  });

  it.each([
    { name: 'a negative link rate', devices: [{ ...valid, link: { bytesPerSec: -1, latencyS: 0 } }], error: /^D\.json: devices\[0\]\.link\.bytesPerSec: / },
    { name: 'a duplicate id', devices: [valid, valid], error: /^D\.json: devices\[1\]\.id: duplicate device id "a"$/ },
    { name: 'an unknown op kind', devices: [{ ...valid, macPerSec: { default: 1, CONV: 2 } }], error: /unknown op kind "CONV"/ },
    { name: 'a bad budget', devices: [{ ...valid, budget: 'big' }], error: /budget: bad byte size "big"/ },
  ])('refuses $name in one line', ({ devices, error }) => {
    expect(() => parseDevices({ devices }, 'D.json')).toThrow(error);
  });
});

describe('followTheLeader', () => {
  const devices = syntheticDevices(5, 3, 'uart-2M', 4).map((d, i) => ({ ...d, failureProb: 0.1, macPerSec: { default: (5 - i) * 1e6 } }));
  it('groups the fastest devices together until the group fails with probability <= epsilon', () => {
    // 0.1^2 = 0.01 <= 0.02; the last device joins the last group.
    expect(followTheLeader(devices, { epsilon: 0.02 })).toEqual([[0, 1], [2, 3, 4]]);
  });
  it('or by a fixed count', () => {
    expect(followTheLeader(devices, { replicas: 1 })).toEqual([[0], [1], [2], [3], [4]]);
    expect(followTheLeader(devices, { replicas: 3 })).toEqual([[0, 1, 2, 3, 4]]);
  });
});

describe('deviceMemory and its diagram', () => {
  const g = buildModel({ name: 'm', seed: 2, input: [6, 6, 1], layers: [{ kind: 'conv', out: 2, k: 3 }, { kind: 'maxpool', k: 2, stride: 2 }] });
  const [device] = syntheticDevices(1, 0, 'uart-2M', 1).map((d) => ({ ...d, reservedBytes: 1000 }));
  const ops = fuseBackward(g, [0, 1], { start: [0, 0, 0, 0], end: [1, 2, 3, 2] });

  it('adds reserved bytes, resident parameters and the activation high-water', () => {
    const m = deviceMemory(g, device, [{ id: 'f', ops }]);
    expect(m.paramBytes).toBe(fragmentParamBytes(g, ops));
    expect(m.activationBytes).toBe(fragmentActivationBytes(g, ops));
    expect(m.peak).toBe(1000 + m.paramBytes + m.activationBytes);
    // Pool box 2x3x2 reads conv rows 0..3 (box 4x6x2), which read input rows 0..4 (tile 5x6x1, SAME halo clipped at the top).
    expect(m.regions.map((r) => [r.what, r.size])).toEqual([
      ['input input', 30],
      ['intermediate l0', 48],
      ['output l1', 12],
      ['params (LOAD blob, ops 0,1)', m.paramBytes],
    ]);
  });

  it('draws one line per region under a summary', () => {
    const text = memoryDiagram(deviceMemory(g, device, [{ id: 'f', ops }]));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^d0: peak \d+ of 98304 bytes \(reserved 1000, params \d+, activations \d+\)$/);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(/\|[ #]+\|.* f params/);
  });
});

describe('replicated plans', () => {
  it('run every fragment on a follow-the-leader group of the fixed size', async () => {
    const graph = buildModel({ name: 'r', seed: 9, input: [12, 12, 2], layers: [{ kind: 'conv', out: 4, k: 3 }, { kind: 'dw', k: 3 }, { kind: 'reshape' }, { kind: 'fc', units: 5 }] });
    const devices = syntheticDevices(4, 2, 'wifi-1MBps', 5);
    const groups = followTheLeader(devices, { replicas: 2 }).map((g) => g.map((d) => devices[d].id).sort().join());
    const plan = await strategies.replicated.plan({ graph, model: { name: 'r', sha256: graphHash(graph) }, devices, lambda: 0, replicas: 2 });
    const fragments = plan.stages.flatMap((s) => s.fragments);
    expect(fragments.length).toBeGreaterThan(0);
    for (const f of fragments) expect(groups).toContain([...f.devices].sort().join());
    // Every replica holds its fragment: each group member's memory lists it.
    for (const f of fragments) for (const d of f.devices) expect(plan.memory.find((m) => m.device === d)!.regions.some((r) => r.fragment === f.id)).toBe(true);
  });
});

describe('speed-sized tiles', () => {
  it('a device twice as fast gets about twice the output of every split stage', async () => {
    const graph = buildModel({ name: 's', seed: 4, input: [48, 48, 4], layers: [{ kind: 'conv', out: 16, k: 3 }, { kind: 'conv', out: 16, k: 3 }, { kind: 'conv', out: 16, k: 3 }] });
    // Compute-bound: links so fast that a tile's transfer is a small part of its time.
    const device = (id: string, macPerSec: number) => ({ ...referenceDevice(1024 * 1024, id), macPerSec: { default: macPerSec }, link: { bytesPerSec: 1e9, latencyS: 0 } });
    const devices = [device('slow', 10e6), device('fast', 20e6)];
    const plan = await strategies.microsplit.plan({ graph, model: { name: 's', sha256: graphHash(graph) }, devices, lambda: 0 });
    const split = plan.stages.filter((s) => s.fragments.length === 2);
    expect(split.length).toBeGreaterThan(0);
    for (const s of split) {
      const volume = (id: string) => {
        const f = s.fragments.find((x) => x.devices.includes(id))!;
        return f.output.box.end.reduce((v, e, i) => v * (e - f.output.box.start[i]), 1);
      };
      // Rounding to whole rows or channels and the halo's extra work keep it from exactly 2.
      expect(volume('fast') / volume('slow')).toBeGreaterThan(1.7);
      expect(volume('fast') / volume('slow')).toBeLessThan(2.3);
    }
  });
});
