// The simulator's small parts on their own: frame splitting, frame faults,
// line pacing, the testbed file's validation, and the work (MACs) read from
// a fragment blob.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../host/random.ts';
import { FrameFaults } from '../host/sim/faults.ts';
import { PacedLine } from '../host/sim/line.ts';
import { FrameSplitter } from '../host/sim/splitter.ts';
import { parseTestbed, macRate } from '../host/sim/testbed.ts';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';
import { fragmentWork } from '../host/sim/work.ts';
import { oneOpFragment } from './fixtures/link-fragments.ts';
import { convModel, fullyConnectedModel, randomInputs } from './fixtures/small-models.ts';

const b = (...xs: number[]) => Uint8Array.from(xs);

describe('FrameSplitter', () => {
  it('cuts after each delimiter, keeping the delimiter', () => {
    const s = new FrameSplitter(100);
    expect(s.push(b(1, 2, 0, 3, 0))).toEqual([b(1, 2, 0), b(3, 0)]);
  });

  it('joins a frame split across chunks', () => {
    const s = new FrameSplitter(100);
    expect(s.push(b(1, 2))).toEqual([]);
    expect(s.push(b(3))).toEqual([]);
    expect(s.push(b(4, 0, 5))).toEqual([b(1, 2, 3, 4, 0)]);
    expect(s.push(b(0))).toEqual([b(5, 0)]);
  });

  it('passes a delimiter leading a chunk as a frame of its own', () => {
    const s = new FrameSplitter(100);
    expect(s.push(b(0, 7, 0))).toEqual([b(0), b(7, 0)]);
  });

  it('passes bytes without a delimiter on in pieces of maxBytes', () => {
    const s = new FrameSplitter(4);
    expect(s.push(b(1, 2, 3))).toEqual([]);
    expect(s.push(b(4, 5, 6, 7, 8, 9))).toEqual([b(1, 2, 3, 4), b(5, 6, 7, 8)]);
    expect(s.push(b(0))).toEqual([b(9, 0)]);
  });
});

describe('FrameFaults', () => {
  const frame = encodeFrame(b(1, 0x10, 0x20, 0x30, 0x40));

  it('with p = 0 passes every frame unchanged', () => {
    const f = new FrameFaults(0, 0, seededRandom(1));
    for (let i = 0; i < 100; i++) expect(f.apply(frame)).toBe(frame);
    expect(f.counts).toEqual({ dropped: 0, corrupted: 0 });
  });

  it('with corruptP = 1 flips exactly one bit, never the delimiter, and the CRC catches it', () => {
    const f = new FrameFaults(0, 1, seededRandom(2));
    for (let i = 0; i < 200; i++) {
      const out = f.apply(frame)!;
      let bits = 0;
      for (let k = 0; k < frame.length; k++) bits += popcount(out[k] ^ frame[k]);
      expect(bits).toBe(1);
      expect(out[out.length - 1]).toBe(0);
      expect(out.subarray(0, -1).includes(0)).toBe(false);
      expect(new FrameDecoder({ maxPayload: 64 }).push(out)).toEqual([]);
    }
    expect(f.counts.corrupted).toBe(200);
  });

  it('drops about dropP of the frames, repeatably for a seed', () => {
    const run = () => {
      const f = new FrameFaults(0.1, 0, seededRandom(42));
      return Array.from({ length: 2000 }, () => f.apply(frame) === null);
    };
    const drops = run();
    expect(drops).toEqual(run());
    const n = drops.filter(Boolean).length;
    expect(n).toBeGreaterThan(140);
    expect(n).toBeLessThan(260);
  });
});

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

describe('PacedLine', () => {
  it('spaces bytes at the line rate and adds the latency', () => {
    const line = new PacedLine(1000, 5); // 1 byte per ms
    expect(line.arrival(100, 0)).toBe(105);
    // Offered while the line is still busy: queued behind the first 100 bytes.
    expect(line.arrival(50, 20)).toBe(155);
    // Offered after the line went idle: starts at once.
    expect(line.arrival(10, 1000)).toBe(1015);
  });
});

describe('testbed files', () => {
  const device = { id: 'm4-a', memory: '64K', speed: { default: 2e6, CONV_2D: 8e6 }, link: { kind: 'pty', rate: 11520 } };

  it('fills defaults and converts sizes', () => {
    const t = parseTestbed({ devices: [device] });
    expect(t.seed).toBe(1);
    expect(t.devices[0].memory).toBe(65536);
    expect(t.devices[0].link.latencyMs).toBe(0);
    expect(macRate(t.devices[0], 'CONV_2D')).toBe(8e6);
    expect(macRate(t.devices[0], 'FULLY_CONNECTED')).toBe(2e6);
  });

  it.each([
    [{ devices: [{ ...device, memory: '64Q' }] }, 'devices.0.memory: expected bytes as a positive integer or a string like "96K", got "64Q"'],
    [{ devices: [{ ...device, speed: { default: 1, CONV3D: 2 } }] }, 'devices.0.speed: Unrecognized key: "CONV3D"'],
    [{ devices: [{ ...device, link: { kind: 'usb', rate: 1 } }] }, 'devices.0.link.kind'],
    [{ devices: [{ ...device, faults: { dropP: 1.5 } }] }, 'devices.0.faults.dropP'],
    [{ devices: [device, device] }, 'devices.1.id: duplicate device id m4-a'],
    [{ devices: [] }, 'devices: Too small'],
  ])('refuses %j naming the field', (value, message) => {
    expect(() => parseTestbed(value, 'tb.json')).toThrow(`tb.json: ${message}`);
  });
});

describe('fragmentWork: MACs of a fragment read from its blob', () => {
  const conv = convModel({
    kind: 'CONV_2D',
    inShape: [1, 10, 9, 6],
    kernel: [3, 2],
    channels: 8,
    stride: [2, 1],
    dilation: [1, 1],
    padding: 'SAME',
    activation: 'NONE',
  });
  const dw = convModel({
    kind: 'DEPTHWISE_CONV_2D',
    inShape: [1, 8, 8, 4],
    kernel: [3, 3],
    channels: 2,
    stride: [1, 1],
    dilation: [1, 1],
    padding: 'VALID',
    activation: 'RELU',
  });
  const pointwise = convModel({
    kind: 'CONV_2D',
    inShape: [1, 5, 5, 6],
    kernel: [1, 1],
    channels: 4,
    stride: [1, 1],
    dilation: [1, 1],
    padding: 'VALID',
    activation: 'NONE',
  });
  const fc = fullyConnectedModel({ inShape: [3, 50], units: 20, activation: 'NONE', keepNumDims: false, perChannel: false });

  it.each([
    // box elements x taps x input channels, counted by hand from the shapes
    ['conv 3x2 over 6 channels, rows 1..4 x channels 2..7', conv, { start: [0, 1, 0, 2], end: [1, 4, 9, 7] }, 'CONV_2D', 3 * 9 * 5 * (3 * 2 * 6)],
    // a 1x1 convolution is charged at its own speed (CONV_2D_1X1)
    ['conv 1x1 over 6 channels, all of it', pointwise, { start: [0, 0, 0, 0], end: [1, 5, 5, 4] }, 'CONV_2D_1X1', 5 * 5 * 4 * 6],
    ['depthwise 3x3, channels 0..5 of 8', dw, { start: [0, 0, 0, 0], end: [1, 6, 6, 5] }, 'DEPTHWISE_CONV_2D', 6 * 6 * 5 * 9],
    ['FC 50 deep, units 4..14 of 3 batches', fc, { start: [0, 4], end: [3, 14] }, 'FULLY_CONNECTED', 3 * 10 * 50],
  ])('%s', (_name, graph, box, kind, macs) => {
    const f = oneOpFragment(graph, 0, randomInputs(graph)[0], box);
    expect(fragmentWork(f.blob)).toEqual([{ kind, macs }]);
  });

  it('refuses a blob that is not a fragment', () => {
    expect(() => fragmentWork(new Uint8Array(64))).toThrow('fragment blob: bad magic (want MSF1)');
    expect(() => fragmentWork(Uint8Array.of(0x4d, 0x53, 0x46, 0x31, 5, 0, 0, 0))).toThrow(
      'fragment blob: op 0 record offset at byte 32 lies past its 8 bytes',
    );
  });
});
