// The simulator's small parts on their own: frame splitting, frame faults,
// line pacing, and the testbed file's validation.
import { describe, expect, it } from 'vitest';
import { FrameFaults, seededRandom } from '../host/sim/faults.ts';
import { PacedLine } from '../host/sim/line.ts';
import { FrameSplitter } from '../host/sim/splitter.ts';
import { parseTestbed, macRate } from '../host/sim/testbed.ts';
import { encodeFrame, FrameDecoder } from '../host/link/frame.ts';

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
