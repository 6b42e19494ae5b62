// CONV_2D and FULLY_CONNECTED records whose weight rows are a whole number of
// words hold their full blocks of four channels interleaved by words (ABI.md,
// "Weight slice layouts"). A box may take any channel range of the record, and
// an FC call any depth range of it, so the kernels' four-channel steps need not
// start at a block nor a word: every such range must equal the oracle bit for
// bit (conv 3x3 with border and interior pixels, and 1x1; FC whole and partial).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels, type KernelExports } from '../host/run/wasm-engine.ts';
import { box4, packCall, packOp, requiredTile, tile4, type KernelOpParams } from '../host/abi/kernel-abi.ts';
import { interleaveBlocks } from '../host/abi/record.ts';
import { prepareOp, type ConvParams, type FullyConnectedParams } from '../host/model/op-params.ts';
import { fcPartialSums, runOpBox } from '../host/model/oracle.ts';
import { validateGraph } from '../host/model/validate.ts';
import { extractBox, type Box } from '../host/run/boxes.ts';

const CH = 11;

/** A 1x6x6x8 -> 11 channel k x k SAME conv with pseudo-random weights, input and per-channel scales. */
function conv(k: number): { params: ConvParams; input: Int8Array } {
  const inC = 8;
  const filter = Int8Array.from({ length: CH * k * k * inC }, (_, i) => ((i * 37 + k) % 255) - 127);
  const input = Int8Array.from({ length: 6 * 6 * inC }, (_, i) => ((i * 53) % 256) - 128);
  const q = (s: number, zp: number) => ({ scale: [s], zeroPoint: [zp] });
  const graph = validateGraph({
    tensors: [
      { name: 'x', shape: [1, 6, 6, inC], dtype: 'int8', quant: q(0.5, -3) },
      {
        name: 'w',
        shape: [CH, k, k, inC],
        dtype: 'int8',
        quant: { scale: Array.from({ length: CH }, (_, c) => 0.002 * (c + 1)), zeroPoint: new Array<number>(CH).fill(0), axis: 0 },
        data: filter,
      },
      { name: 'y', shape: [1, 6, 6, CH], dtype: 'int8', quant: q(0.25, 7) },
    ],
    ops: [{ kind: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: 'NONE' }],
    inputs: [0],
    outputs: [2],
  });
  return { params: prepareOp(graph, 0) as ConvParams, input };
}

let k: KernelExports;
beforeAll(async () => {
  k = await loadKernels();
});

/** Runs `box` (FC: over the depth range `depth`) with a record holding
 * channels [lo, hi) (FC: and the depth range `recDepth`); returns its output
 * (int32 partial sums when `depth` is not the whole depth). */
function run(params: KernelOpParams, input: Int8Array, inShape: number[], lo: number, hi: number, box: Box, depth?: [number, number], recDepth?: [number, number]): number[] {
  const blob = packOp(params, { channels: [lo, hi], depth: recDepth });
  const rec = k.kernelScratchBase();
  const call = (rec + blob.length + 15) & ~15;
  const t = requiredTile(params, 0, box, depth);
  const tileData = extractBox(input, inShape, { start: t.origin, end: t.origin.map((o, i) => o + t.shape[i]) });
  const tile = call + 256;
  const out = (tile + tileData.length + 15) & ~15;
  const partial = depth !== undefined && (depth[0] !== 0 || depth[1] !== inShape[1]);
  const outBytes = box.end.reduce((a, e, i) => a * (e - box.start[i]), 1) * (partial ? 4 : 1);
  new Uint8Array(k.memory.buffer).set(blob, rec);
  new Int8Array(k.memory.buffer).set(tileData, tile);
  const { origin, extent } = tile4(params, 0, t.origin, t.shape);
  new Uint8Array(k.memory.buffer).set(packCall({ out, outBytes, box: box4(params, box), in0: { offset: tile, origin, extent }, depth }), call);
  expect(k.prepareRecord(rec)).toBe(0);
  expect(k.runFragment(rec, call)).toBe(0);
  return Array.from(partial ? new Int32Array(k.memory.buffer.slice(out, out + outBytes)) : new Int8Array(k.memory.buffer, out, outBytes));
}

/** A 2 x 16 -> 11 unit FULLY_CONNECTED with pseudo-random weights, input and per-unit scales. */
function fullyConnected(): { params: FullyConnectedParams; input: Int8Array } {
  const depth = 16;
  const filter = Int8Array.from({ length: CH * depth }, (_, i) => ((i * 41) % 255) - 127);
  const input = Int8Array.from({ length: 2 * depth }, (_, i) => ((i * 59) % 256) - 128);
  const q = (s: number, zp: number) => ({ scale: [s], zeroPoint: [zp] });
  const graph = validateGraph({
    tensors: [
      { name: 'x', shape: [2, depth], dtype: 'int8', quant: q(0.5, 5) },
      {
        name: 'w',
        shape: [CH, depth],
        dtype: 'int8',
        quant: { scale: Array.from({ length: CH }, (_, c) => 0.003 * (c + 1)), zeroPoint: new Array<number>(CH).fill(0), axis: 0 },
        data: filter,
      },
      { name: 'y', shape: [2, CH], dtype: 'int8', quant: q(0.25, -2) },
    ],
    ops: [{ kind: 'FULLY_CONNECTED', inputs: [0, 1, -1], outputs: [2], activation: 'NONE', keepNumDims: false }],
    inputs: [0],
    outputs: [2],
  });
  return { params: prepareOp(graph, 0) as FullyConnectedParams, input };
}

describe('interleaved weight blocks', () => {
  it('lays out full blocks of four channels by words and keeps the rest plain', () => {
    // 5 channels of 8 taps: channel c's tap t is 10c + t.
    const w = Int8Array.from({ length: 40 }, (_, i) => Math.floor(i / 8) * 10 + (i % 8));
    const words = (a: Int8Array) => Array.from({ length: a.length / 4 }, (_, i) => Array.from(a.subarray(4 * i, 4 * i + 4)));
    expect(words(interleaveBlocks(w, 5, 8))).toEqual([
      [0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23], [30, 31, 32, 33],
      [4, 5, 6, 7], [14, 15, 16, 17], [24, 25, 26, 27], [34, 35, 36, 37],
      [40, 41, 42, 43], [44, 45, 46, 47],
    ]);
  });

  it.each([{ size: 3 }, { size: 1 }])('conv $size x $size: every channel range of a record holding channels [1, 11) equals the oracle', ({ size }) => {
    const { params, input } = conv(size);
    const whole = { data: input, origin: [0, 0, 0, 0], shape: [1, 6, 6, 8] };
    for (let c0 = 1; c0 < CH; c0++)
      for (let c1 = c0 + 1; c1 <= CH; c1++) {
        const box: Box = { start: [0, 0, 0, c0], end: [1, 6, 6, c1] };
        expect(run(params, input, [1, 6, 6, 8], 1, CH, box), `channels [${c0}, ${c1})`).toEqual(Array.from(runOpBox(params, [whole], box)));
      }
  });

  it('FC: every unit range of a record holding units [1, 11) equals the oracle', () => {
    const { params, input } = fullyConnected();
    const whole = { data: input, origin: [0, 0], shape: [2, 16] };
    for (let u0 = 1; u0 < CH; u0++)
      for (let u1 = u0 + 1; u1 <= CH; u1++) {
        const box: Box = { start: [0, u0], end: [2, u1] };
        expect(run(params, input, [2, 16], 1, CH, box, [0, 16]), `units [${u0}, ${u1})`).toEqual(Array.from(runOpBox(params, [whole], box)));
      }
  });

  it('FC: partial sums over every depth range of a record holding depths [4, 16) equal the oracle', () => {
    const { params, input } = fullyConnected();
    const whole = { data: input, origin: [0, 0], shape: [2, 16] };
    const box: Box = { start: [0, 1], end: [2, CH] };
    for (let d0 = 4; d0 < 16; d0++)
      for (let d1 = d0 + 1; d1 <= 16; d1++)
        expect(run(params, input, [2, 16], 0, CH, box, [d0, d1], [4, 16]), `depth [${d0}, ${d1})`).toEqual(
          Array.from(fcPartialSums(params, whole, box, [d0, d1])),
        );
  });
});
