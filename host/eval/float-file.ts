// The trained float weights of a bundled model (.msf), kept next to its int8
// bundle so that `eval` can put float and int8 accuracy side by side and the
// quantizer test can re-quantize without retraining.
//
// Layout, little-endian:
//   0  4 bytes  magic "MSFM"
//   4  u32      format version (1)
//   8  u32      byte length L of the JSON header
//   12 L bytes  JSON: { name, inputShape, inputQuant, layers } with each
//               weighted layer's spec and kernelShape, no values
//   then, from the next multiple of 4: float32 values of every weighted
//   layer in order, kernel (tfjs layout) then bias
import { z } from 'zod';
import type { FloatLayer, FloatModel } from './float-model.ts';
import { hasWeights } from './float-model.ts';

const MAGIC = 'MSFM';
const VERSION = 1;

const pair = z.tuple([z.number().int().positive(), z.number().int().positive()]);
const padding = z.enum(['SAME', 'VALID']);
const activation = z.enum(['NONE', 'RELU', 'RELU6']);
const shape = z.array(z.number().int().positive());
const layerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('conv2d'), filters: z.number().int().positive(), kernelSize: pair, strides: pair, padding, activation, kernelShape: shape }),
  z.object({ kind: z.literal('depthwise'), depthMultiplier: z.number().int().positive(), kernelSize: pair, strides: pair, padding, activation, kernelShape: shape }),
  z.object({ kind: z.literal('dense'), units: z.number().int().positive(), activation, kernelShape: shape }),
  z.object({ kind: z.enum(['maxpool', 'avgpool']), poolSize: pair, strides: pair, padding }),
  z.object({ kind: z.literal('flatten') }),
  z.object({ kind: z.literal('softmax') }),
]);
const headerSchema = z.object({
  name: z.string(),
  inputShape: shape,
  inputQuant: z.object({ scale: z.number().positive(), zeroPoint: z.number().int() }),
  layers: z.array(layerSchema),
});

/** Output channels of a weighted layer: the bias length. */
function biasLength(kernelShape: number[], kind: string): number {
  const n = kernelShape.length;
  return kind === 'depthwise' ? kernelShape[n - 2] * kernelShape[n - 1] : kernelShape[n - 1];
}

export function writeFloatModel(m: FloatModel): Uint8Array {
  const header = {
    name: m.name,
    inputShape: m.inputShape,
    inputQuant: m.inputQuant,
    layers: m.layers.map((l) => {
      if (!hasWeights(l)) return l;
      const { kernel: _k, bias: _b, ...rest } = l;
      return rest;
    }),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((12 + json.length) / 4) * 4;
  const arrays = m.layers.filter(hasWeights).flatMap((l) => [l.kernel, l.bias]);
  const out = new Uint8Array(dataStart + 4 * arrays.reduce((n, a) => n + a.length, 0));
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let off = dataStart;
  for (const a of arrays) for (const v of a) (view.setFloat32(off, v, true), (off += 4));
  return out;
}

export function readFloatModel(bytes: Uint8Array, source = 'float model'): FloatModel {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) fail(`not a float model file (magic is not "${MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) !== VERSION) fail(`format version ${view.getUint32(4, true)}, this build reads ${VERSION}`);
  const len = view.getUint32(8, true);
  if (12 + len > bytes.length) fail(`header of ${len} bytes runs past the end of the file`);
  const parsed = headerSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))));
  if (!parsed.success) fail(`bad header: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const header = parsed.data!;
  let off = Math.ceil((12 + len) / 4) * 4;
  const take = (n: number): Float32Array => {
    if (off + 4 * n > bytes.length) fail(`weights run past the end of the file`);
    const a = Float32Array.from({ length: n }, (_, i) => view.getFloat32(off + 4 * i, true));
    off += 4 * n;
    return a;
  };
  const layers = header.layers.map((l): FloatLayer => {
    if (!('kernelShape' in l)) return l;
    const kernel = take(l.kernelShape.reduce((a, b) => a * b, 1));
    return { ...l, kernel, bias: take(biasLength(l.kernelShape, l.kind)) };
  });
  if (off !== bytes.length) fail(`${bytes.length - off} bytes left over after the weights`);
  return { name: header.name, inputShape: header.inputShape, inputQuant: header.inputQuant, layers };
}
