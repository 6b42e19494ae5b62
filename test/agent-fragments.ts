// Fragments for the agent tests, each with its input tile and the oracle's
// output for it: a conv output box from a tile with its halo, a fused
// conv -> max-pool stage (two ops, the intermediate in the arena), and an FC.
// Records and call blocks come from host/abi/kernel-abi.ts; the expected
// bytes from host/model/oracle.ts, which never calls the kernels.
import type { Graph, TensorData } from '../host/model/ir.ts';
import { packCall, packOp } from '../host/abi/kernel-abi.ts';
import { prepareOp } from '../host/model/op-params.ts';
import { runOpBox, wholeOutputBox } from '../host/model/oracle.ts';
import { wholeTile } from '../host/model/oracle/tile.ts';
import { extractBox } from '../host/run/boxes.ts';
import { packFragment } from '../host/abi/fragment-blob.ts';
import { convModel, fullyConnectedModel, poolModel, randomInputs } from './fixtures/small-models.ts';

export interface TestFragment {
  name: string;
  blob: Uint8Array;
  /** Activation bytes the fragment needs (LOAD `arena`). */
  arena: number;
  input: Uint8Array;
  expected: Uint8Array;
}

const u8 = (a: TensorData) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const align8 = (n: number) => (n + 7) & ~7;

function onlyOp(g: Graph) {
  return prepareOp(g, 0);
}

const conv = convModel({
  kind: 'CONV_2D', inShape: [1, 9, 8, 5], kernel: [3, 3], channels: 5, stride: [1, 1], dilation: [1, 1], padding: 'SAME', activation: 'RELU',
});
const convIn = randomInputs(conv, 11)[0] as Int8Array;
const convP = onlyOp(conv);
const convOut = runOpBox(convP, [wholeTile(convIn, [1, 9, 8, 5])], wholeOutputBox(convP)) as Int8Array;

/** Output rows [2, 6) of the conv: a 3x3 SAME window needs input rows [1, 7). */
export function convBoxFragment(): TestFragment {
  const tileBox = { start: [0, 1, 0, 0], end: [1, 7, 8, 5] };
  const outBox = { start: [0, 2, 0, 0], end: [1, 6, 8, 5] };
  const input = extractBox(convIn, [1, 9, 8, 5], tileBox);
  const outBytes = 4 * 8 * 5;
  const inOffset = 0;
  const outOffset = align8(input.length);
  const call = packCall({
    out: outOffset, outBytes, box: outBox,
    in0: { offset: inOffset, origin: tileBox.start, extent: [1, 6, 8, 5] },
  });
  const blob = packFragment({ ops: [{ record: packOp(convP), call }], input: { offset: inOffset, bytes: input.length }, output: { offset: outOffset, bytes: outBytes } });
  return { name: 'conv rows 2..6 from a tile with halo', blob, arena: outOffset + outBytes, input: u8(input), expected: u8(extractBox(convOut, [1, 9, 8, 5], outBox)) };
}

const pool = poolModel({ kind: 'MAX_POOL_2D', filter: [2, 2], stride: [2, 2], padding: 'VALID', activation: 'NONE' });
const poolP = onlyOp(pool);

/** The whole conv, then a 2x2 max pool of its output: two ops, one RUN. */
export function fusedConvPoolFragment(): TestFragment {
  const inBytes = 9 * 8 * 5;
  const midOffset = align8(inBytes);
  const outOffset = midOffset + align8(inBytes);
  const poolBox = wholeOutputBox(poolP);
  const outBytes = poolBox.end.reduce((a, b) => a * b, 1);
  const whole = wholeOutputBox(convP);
  const ops = [
    { record: packOp(convP), call: packCall({ out: midOffset, outBytes: inBytes, box: whole, in0: { offset: 0, origin: [0, 0, 0, 0], extent: [1, 9, 8, 5] } }) },
    { record: packOp(poolP), call: packCall({ out: outOffset, outBytes, box: poolBox, in0: { offset: midOffset, origin: [0, 0, 0, 0], extent: [1, 9, 8, 5] } }) },
  ];
  const expected = runOpBox(poolP, [wholeTile(convOut, [1, 9, 8, 5])], poolBox);
  const blob = packFragment({ ops, input: { offset: 0, bytes: inBytes }, output: { offset: outOffset, bytes: outBytes } });
  return { name: 'fused conv + max pool', blob, arena: outOffset + outBytes, input: u8(convIn), expected: u8(expected) };
}

const fcModel = fullyConnectedModel({ inShape: [1, 64], units: 10, activation: 'NONE', keepNumDims: false, perChannel: true });
const fcP = onlyOp(fcModel);

/** A fully connected layer, 64 -> 10, its input and output where the host planned them (4-aligned). */
export function fcFragment(inOffset = 0, outOffset = 64): TestFragment {
  const input = randomInputs(fcModel, 12)[0] as Int8Array;
  const box = wholeOutputBox(fcP);
  const call = packCall({ out: outOffset, outBytes: 10, box: { start: [0, 0, 0, 0], end: [1, 10, 1, 1] }, in0: { offset: inOffset, origin: [0, 0, 0, 0], extent: [1, 64, 1, 1] }, depth: [0, 64] });
  const blob = packFragment({ ops: [{ record: packOp(fcP), call }], input: { offset: inOffset, bytes: 64 }, output: { offset: outOffset, bytes: 10 } });
  const expected = runOpBox(fcP, [wholeTile(input, [1, 64])], box);
  return { name: 'fully connected 64 -> 10', blob, arena: Math.max(inOffset + 64, outOffset + 10), input: u8(input), expected: u8(expected) };
}
