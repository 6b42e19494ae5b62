// Import: TFLite Micro's person_detect (a converter-made model nobody here
// wrote) into the IR, and malformed files refused with one clear line each.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numElements, tensorBytes } from '../host/model/ir.ts';
import { readTflite, TfliteError } from '../host/model/tflite/read.ts';
import { encodeTflite, tfliteModelOf, type TfliteModel } from '../host/model/tflite/write.ts';
import { SMALL_MODELS } from './fixtures/small-model-cases.ts';
import { convModel, fullyConnectedModel } from './fixtures/small-models.ts';

const personDetect = readFileSync(new URL('./fixtures/person_detect/person_detect.tflite', import.meta.url));

describe('person_detect', () => {
  const g = readTflite(personDetect);

  it('has the ops its README lists, in one chain', () => {
    const count = (k: string) => g.ops.filter((op) => op.kind === k).length;
    expect([count('DEPTHWISE_CONV_2D'), count('CONV_2D'), count('AVERAGE_POOL_2D'), count('RESHAPE'), count('SOFTMAX')]).toEqual([14, 14, 1, 1, 1]);
    expect(g.ops).toHaveLength(31);
    g.ops.slice(1).forEach((op, i) => expect(op.inputs[0]).toBe(g.ops[i].outputs[0]));
  });

  it('starts with a depthwise conv, multiplier 8 on one channel, stride 2, SAME, RELU6', () => {
    expect(g.ops[0]).toMatchObject({ kind: 'DEPTHWISE_CONV_2D', depthMultiplier: 8, strideH: 2, strideW: 2, padding: 'SAME', activation: 'RELU6' });
  });

  it('has the input and output tensors its README gives', () => {
    const input = g.tensors[g.inputs[0]];
    const output = g.tensors[g.outputs[0]];
    expect(input).toMatchObject({ shape: [1, 96, 96, 1], dtype: 'int8', quant: { zeroPoint: [-1] } });
    expect(input.quant!.scale[0]).toBeCloseTo(0.007843, 6);
    expect(output).toMatchObject({ shape: [1, 2], dtype: 'int8', quant: { scale: [1 / 256], zeroPoint: [-128] } });
  });

  it('holds 218,928 bytes of constants (weights, biases, a reshape target), and its largest activation is 36,864 bytes', () => {
    expect(g.tensors.filter((t) => t.data).reduce((sum, t) => sum + tensorBytes(t), 0)).toBe(218928);
    expect(Math.max(...g.tensors.filter((t) => !t.data).map(tensorBytes))).toBe(36864);
  });

  it('keeps per-channel weight scales along the output-channel axis', () => {
    const conv = g.ops.find((op) => op.kind === 'CONV_2D')!;
    const dw = g.ops[0];
    const convW = g.tensors[conv.inputs[1]];
    const dwW = g.tensors[dw.inputs[1]];
    expect(convW.quant!.scale).toHaveLength(convW.shape[0]);
    expect(convW.quant!.axis).toBe(0);
    expect(dwW.quant!.scale).toHaveLength(dwW.shape[3]);
    expect(dwW.quant!.axis).toBe(3);
  });

  it('reads a 1-D per-channel bias that the converter marked with the filter dimension 3 as quantized along its only axis', () => {
    const bias = g.tensors[g.ops[0].inputs[2]];
    expect(bias).toMatchObject({ dtype: 'int32', shape: [8], quant: { axis: 0 } });
    expect(bias.quant!.scale).toHaveLength(8);
  });

  it('reads the same graph when its constants are stored after the flatbuffer (offset and size, schema 3c)', () => {
    const file = encodeTflite(tfliteModelOf(g), { dataAfter: true });
    expect(readTflite(file)).toEqual(g);
    const weightsEnd = file.length - 64; // the last buffer ends inside the file's final bytes
    expect(() => readTflite(file.subarray(0, weightsEnd))).toThrow(/data at bytes \d+\.\.\d+ lies outside the file of \d+ bytes: truncated/);
  });

  it('takes RESHAPE`s target from its options', () => {
    const reshape = g.ops.find((op) => op.kind === 'RESHAPE')!;
    expect(reshape).toMatchObject({ newShape: [1, 2] });
    expect(numElements(g.tensors[reshape.outputs[0]].shape)).toBe(2);
  });
});

/** A valid small model in schema terms, for the edits below. */
function base(): TfliteModel {
  return tfliteModelOf(convModel({ kind: 'CONV_2D', inShape: [1, 5, 5, 2], kernel: [3, 3], channels: 3, stride: [1, 1], dilation: [1, 1], padding: 'SAME', activation: 'RELU' }));
}

function edited(edit: (m: TfliteModel) => void): Uint8Array {
  const m = base();
  edit(m);
  return encodeTflite(m);
}

function setOption(m: TfliteModel, id: number, value: number) {
  const f = m.subgraph.ops[0].options.find((o) => o.id === id)!;
  if (f.type === 'ints') throw new Error('not a scalar option');
  f.value = value;
}

const valid = encodeTflite(base());

const MALFORMED: [string, () => Uint8Array, RegExp][] = [
  ['an empty file', () => new Uint8Array(0), /0 bytes is too short to be a flatbuffer: truncated/],
  ['a file cut in half', () => valid.subarray(0, valid.length >> 1), /lies outside the file .*truncated or corrupt/],
  ['a file missing its last byte', () => valid.subarray(0, valid.length - 1), /truncated or corrupt/],
  ['the identifier "TFL2"', () => Uint8Array.from(valid, (b, i) => (i === 7 ? 0x32 : b)), /file identifier is "TFL2", expected "TFL3": not a .tflite file/],
  ['a non-flatbuffer file', () => new TextEncoder().encode('this is plainly not a model file'), /file identifier is .*: not a .tflite file/],
  ['schema version 2', () => edited((m) => (m.version = 2)), /schema version 2 is not supported \(only 3\)/],
  ['an op TFLite has but the IR lacks (MUL)', () => edited((m) => (m.operatorCodes[0].builtinCode = 18)), /^op 0: unsupported op MUL$/],
  ['an op code past the known ones', () => edited((m) => (m.operatorCodes[0].builtinCode = 500)), /^op 0: unsupported op builtin operator 500$/],
  ['a custom op', () => edited((m) => (m.operatorCodes[0] = { builtinCode: 32, version: 1, customCode: 'TFLite_Detection_PostProcess' })), /^op 0: custom op "TFLite_Detection_PostProcess" is not supported$/],
  ['an opcode index out of range', () => edited((m) => (m.subgraph.ops[0].opcodeIndex = 4)), /^op 0: opcode index 4 out of range \(1 operator codes\)$/],
  ['a fused TANH activation', () => edited((m) => setOption(m, 3, 4)), /^op 0 \(CONV_2D\): fused activation TANH is not supported$/],
  ['an unknown padding', () => edited((m) => setOption(m, 0, 2)), /^op 0 \(CONV_2D\): padding 2 is not supported$/],
  ['options of another op', () => edited((m) => (m.subgraph.ops[0].optionsType = 5)), /^op 0 \(CONV_2D\): builtin options of type 5, expected 1$/],
  ['an output shape that does not follow from the input', () => edited((m) => (m.subgraph.tensors[m.subgraph.ops[0].outputs[0]].shape = [1, 5, 4, 3])), /^op 0 \(CONV_2D\): outputs\[0\]\.shape: expected \[1,>=5,>=5,3\], got \[1,5,4,3\]$/],
  ['a filter deeper than the input', () => edited((m) => (m.subgraph.tensors[0].shape = [1, 5, 5, 4])), /^op 0 \(CONV_2D\): inputs\[1\]\.shape: filter depth 2 != input channels 4$/],
  ['a weights buffer of the wrong size', () => edited((m) => (m.buffers[1] = m.buffers[1].subarray(0, 10))), /tensors\[1\]\.data: 10 values for shape \[3,3,3,2\]/],
  ['a buffer index out of range', () => edited((m) => (m.subgraph.tensors[1].buffer = 9)), /^tensor 1 \(CONV_2D\/weights\): buffer index 9 out of range \(3 buffers\)$/],
  ['a uint8 tensor', () => edited((m) => (m.subgraph.tensors[0].type = 3)), /^tensor 0 \(input0\): type UINT8 is not supported$/],
  ['a dynamic batch dimension', () => edited((m) => (m.subgraph.tensors[0].shape = [-1, 5, 5, 2])), /^tensor 0 \(input0\): dynamic shape \[-1,5,5,2\] is not supported$/],
];

describe('malformed files', () => {
  it('the unedited model imports (the cases below differ from it in one thing each)', () => {
    expect(readTflite(valid).ops[0].kind).toBe('CONV_2D');
  });

  it.each(MALFORMED)('%s: refused with one line', (_, bytes, message) => {
    let error: Error | undefined;
    try {
      readTflite(bytes());
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('TfliteError');
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toContain('\n');
  });

  /** Imports, or fails with a TfliteError of one short line; never another kind of error. */
  const importsOrRefusesCleanly = (bytes: Uint8Array): boolean => {
    try {
      readTflite(bytes);
      return true;
    } catch (e) {
      const err = e as Error;
      return err.name === 'TfliteError' && !/[\u0000-\u001f]/.test(err.message) && err.message.length < 400;
    }
  };
  const corruptible = encodeTflite(tfliteModelOf(SMALL_MODELS[15][1]()));

  it('a file with up to 4 bytes overwritten anywhere imports or is refused with one line (fast-check, 1,000 files)', () => {
    const edits = fc.array(fc.tuple(fc.nat(corruptible.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(edits, (es) => {
        const bytes = Uint8Array.from(corruptible);
        for (const [at, value] of es) bytes[at] = value;
        return importsOrRefusesCleanly(bytes);
      }),
      { numRuns: 1000, seed: 6 },
    );
  });

  it('a file cut at any length is refused with one line', () => {
    for (let n = 0; n < corruptible.length; n += 7) {
      expect(() => readTflite(corruptible.subarray(0, n)), `cut at ${n}`).toThrow(TfliteError);
      expect(importsOrRefusesCleanly(corruptible.subarray(0, n)), `cut at ${n}`).toBe(true);
    }
  });

  it('fully connected with shuffled weights is refused naming the option', () => {
    const m = tfliteModelOf(fullyConnectedModel({ inShape: [1, 8], units: 4, activation: 'NONE', keepNumDims: false, perChannel: false }));
    m.subgraph.ops[0].options.push({ id: 1, type: 'byte', value: 1, def: 0 });
    expect(() => readTflite(encodeTflite(m))).toThrow(/^op 0 \(FULLY_CONNECTED\): weights_format SHUFFLED4x16INT8 is not supported$/);
  });
});
