// The .msb bundle: round trips keep the graph and the bytes, and every kind
// of damage is refused with one line saying what is wrong.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUNDLE_VERSION, readBundle, writeBundle } from '../host/model/bundle.ts';
import type { Graph } from '../host/model/ir.ts';
import { PIXEL_QUANT } from '../host/eval/datasets.ts';
import { quantizeModel } from '../tools/models/quantize.ts';
import { calibrate } from '../tools/models/calibrate.ts';
import { randomImages, randomModel } from './quantize-fixtures.ts';

/** A small CNN through the quantizer: conv, depthwise, pools, FC, softmax; int8 and int32 constants. */
function quantizedCnn(): Graph {
  const { tfModel, floatModel } = randomModel(
    'cnn',
    [
      { kind: 'conv2d', filters: 3, kernelSize: [3, 3], strides: [2, 2], padding: 'SAME', activation: 'RELU' },
      { kind: 'depthwise', depthMultiplier: 2, kernelSize: [3, 3], strides: [1, 1], padding: 'VALID', activation: 'RELU6' },
      { kind: 'maxpool', poolSize: [2, 2], strides: [2, 2], padding: 'VALID' },
      { kind: 'avgpool', poolSize: [2, 2], strides: [1, 1], padding: 'SAME' },
      { kind: 'flatten' },
      { kind: 'dense', units: 10, activation: 'NONE' },
      { kind: 'softmax' },
    ],
    3,
  );
  return quantizeModel(floatModel, calibrate(tfModel, randomImages(20, 4), PIXEL_QUANT));
}

/** Float edges (QUANTIZE/DEQUANTIZE) and int16/float32 constants, written by hand. */
function floatEdges(): Graph {
  const q = { scale: [0.5], zeroPoint: [3] };
  return {
    tensors: [
      { name: 'x', shape: [1, 4], dtype: 'float32' },
      { name: 'xq', shape: [1, 4], dtype: 'int8', quant: q },
      { name: 'y', shape: [1, 4], dtype: 'float32' },
      { name: 'table16', shape: [3], dtype: 'int16', data: Int16Array.from([-32768, 7, 32767]) },
      { name: 'table32f', shape: [2], dtype: 'float32', data: Float32Array.from([-1.5, 3.25e-7]) },
    ],
    ops: [
      { kind: 'QUANTIZE', inputs: [0], outputs: [1] },
      { kind: 'DEQUANTIZE', inputs: [1], outputs: [2] },
    ],
    inputs: [0],
    outputs: [2],
  };
}

/** Replaces the structure JSON and fixes up lengths and hash, so only the content is wrong. */
function withStructure(bytes: Uint8Array, edit: (s: Record<string, unknown>) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = view.getUint32(8, true);
  const dataLen = view.getUint32(12, true);
  const s = JSON.parse(new TextDecoder().decode(bytes.subarray(48, 48 + jsonLen)));
  edit(s);
  const json = new TextEncoder().encode(JSON.stringify(s));
  const start = 48 + Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(start + dataLen);
  out.set(bytes.subarray(0, 48));
  out.set(json, 48);
  out.set(bytes.subarray(bytes.length - dataLen), start);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(createHash('sha256').update(out.subarray(48)).digest(), 16);
  return out;
}

describe('bundle round trip', () => {
  it.each([
    { name: 'a quantized CNN', make: quantizedCnn },
    { name: 'float edges with int16 and float32 constants', make: floatEdges },
  ])('$name: read(write(g)) is g, and write(read(bytes)) is the same bytes', ({ make }) => {
    const g = make();
    const bytes = writeBundle(g);
    const back = readBundle(bytes);
    expect(back).toStrictEqual(g);
    expect(writeBundle(back)).toEqual(bytes);
  });

  it('reads from a Node Buffer that is a view into a larger pool', () => {
    const bytes = writeBundle(floatEdges());
    const pool = Buffer.alloc(bytes.length + 100);
    pool.set(bytes, 37);
    expect(readBundle(pool.subarray(37, 37 + bytes.length))).toStrictEqual(floatEdges());
  });

  it('starts with the magic and the format version', () => {
    const bytes = writeBundle(floatEdges());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('MSBN');
    expect(new DataView(bytes.buffer).getUint16(4, true)).toBe(BUNDLE_VERSION);
  });
});

describe('damaged bundles are refused in one line', () => {
  const good = writeBundle(floatEdges());
  const patched = (at: number, value: number) => {
    const b = good.slice();
    b[at] = value;
    return b;
  };
  it.each([
    { name: 'too short', bytes: good.subarray(0, 20), error: 'bundle: 20 bytes, too short for the 48-byte header' },
    { name: 'wrong magic', bytes: patched(0, 'X'.charCodeAt(0)), error: 'not a microsplit bundle (magic is not "MSBN")' },
    { name: 'unknown version', bytes: patched(4, 9), error: 'bundle format version 9, this build reads version 1' },
    { name: 'truncated', bytes: good.subarray(0, good.length - 1), error: '(truncated or padded file)' },
    { name: 'a flipped data byte', bytes: patched(good.length - 3, good[good.length - 3] ^ 1), error: 'content hash mismatch (the file is corrupted)' },
    {
      name: 'a tensor whose dtype is unknown',
      bytes: withStructure(good, (s) => ((s.tensors as { dtype: string }[])[0].dtype = 'int4')),
      error: 'structure: tensors.0.dtype:',
    },
    {
      name: 'an op reading a tensor that does not exist',
      bytes: withStructure(good, (s) => ((s.ops as { inputs: number[] }[])[1].inputs = [42])),
      error: 'invalid graph: op 1 (DEQUANTIZE): inputs[0]: missing or out-of-range tensor index 42',
    },
    {
      name: 'constant data past the data section',
      bytes: withStructure(good, (s) => ((s.tensors as { data?: { offset: number } }[])[3].data!.offset = 4000)),
      error: 'tensor 3 (table16): data runs past the data section',
    },
  ])('$name', ({ bytes, error }) => {
    let message = '';
    try {
      readBundle(bytes);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(error);
    expect(message).not.toContain('\n');
  });
});
