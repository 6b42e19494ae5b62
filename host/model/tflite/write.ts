// Graph -> .tflite, in two steps: `tfliteModelOf` maps the IR to the
// schema's terms (type codes, op codes, option fields), and `encodeTflite`
// lays that out as a flatbuffer the way TensorFlow's converter does (schema
// version 3, buffer 0 the empty sentinel, one buffer per constant, 16-byte
// aligned data) so TFLite and TFLite Micro interpreters load it. Tests build
// malformed files by editing the schema-level model between the two.
import { Builder } from 'flatbuffers';
import { type Graph, type Op, type Quant } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import * as S from './schema.ts';

/** One field of an options table: its id, value and the schema default (omitted when equal). */
export type OptionField =
  | { id: number; type: 'byte' | 'int' | 'float'; value: number; def: number }
  | { id: number; type: 'ints'; value: readonly number[] };

export interface TfliteTensorRecord {
  name: string;
  shape: readonly number[];
  type: number;
  buffer: number;
  quant?: Quant;
}

export interface TfliteOpRecord {
  opcodeIndex: number;
  inputs: readonly number[];
  outputs: readonly number[];
  optionsType: number;
  options: OptionField[];
}

/** A .tflite model in the schema's own terms: what `encodeTflite` writes. */
export interface TfliteModel {
  version: number;
  description?: string;
  operatorCodes: { builtinCode: number; version: number; customCode?: string }[];
  /** Index 0 is the empty sentinel. */
  buffers: Uint8Array[];
  subgraph: {
    name?: string;
    tensors: TfliteTensorRecord[];
    ops: TfliteOpRecord[];
    inputs: readonly number[];
    outputs: readonly number[];
  };
}

export function writeTflite(graph: Graph): Uint8Array {
  return encodeTflite(tfliteModelOf(graph));
}

export function tfliteModelOf(graph: Graph): TfliteModel {
  validateGraph(graph);
  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const tensors = graph.tensors.map((t): TfliteTensorRecord => {
    let buffer = 0;
    if (t.data) {
      buffer = buffers.length;
      buffers.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    return { name: t.name, shape: t.shape, type: S.TENSOR_TYPE[t.dtype], buffer, quant: t.quant };
  });
  const kinds = [...new Set(graph.ops.map((op) => op.kind))];
  return {
    version: S.SCHEMA_VERSION,
    operatorCodes: kinds.map((k) => ({ builtinCode: S.BUILTIN_CODE[k], version: S.INT8_OP_VERSION[k] })),
    buffers,
    subgraph: {
      name: graph.name,
      tensors,
      ops: graph.ops.map((op) => ({
        opcodeIndex: kinds.indexOf(op.kind),
        inputs: op.inputs,
        outputs: op.outputs,
        optionsType: S.BUILTIN_OPTIONS[op.kind],
        options: optionFields(op),
      })),
      inputs: graph.inputs,
      outputs: graph.outputs,
    },
  };
}

function optionFields(op: Op): OptionField[] {
  const byte = (id: number, value: number, def = 0): OptionField => ({ id, type: 'byte', value, def });
  const int = (id: number, value: number, def = 0): OptionField => ({ id, type: 'int', value, def });
  const act = (id: number) => byte(id, 'activation' in op ? S.ACTIVATION[op.activation] : 0);
  const pad = (id: number) => byte(id, 'padding' in op ? S.PADDING.indexOf(op.padding) : 0);
  switch (op.kind) {
    case 'CONV_2D': {
      const C = S.Conv2DOptions;
      return [pad(C.padding), int(C.strideW, op.strideW), int(C.strideH, op.strideH), act(C.activation),
        int(C.dilationW, op.dilationW, 1), int(C.dilationH, op.dilationH, 1)];
    }
    case 'DEPTHWISE_CONV_2D': {
      const C = S.DepthwiseConv2DOptions;
      return [pad(C.padding), int(C.strideW, op.strideW), int(C.strideH, op.strideH), int(C.depthMultiplier, op.depthMultiplier),
        act(C.activation), int(C.dilationW, op.dilationW, 1), int(C.dilationH, op.dilationH, 1)];
    }
    case 'FULLY_CONNECTED':
      return [act(S.FullyConnectedOptions.activation), byte(S.FullyConnectedOptions.keepNumDims, op.keepNumDims ? 1 : 0)];
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const C = S.Pool2DOptions;
      return [pad(C.padding), int(C.strideW, op.strideW), int(C.strideH, op.strideH), int(C.filterW, op.filterW),
        int(C.filterH, op.filterH), act(C.activation)];
    }
    case 'ADD':
      return [act(S.AddOptions.activation)];
    case 'RESHAPE':
      return [{ id: S.ReshapeOptions.newShape, type: 'ints', value: op.newShape }];
    case 'SOFTMAX':
      return [{ id: S.SoftmaxOptions.beta, type: 'float', value: op.beta, def: 0 }];
    case 'QUANTIZE':
    case 'DEQUANTIZE':
      return [];
  }
}

type Offset = number;

export interface EncodeOptions {
  /**
   * Store constant data after the flatbuffer, each buffer 16-byte aligned and
   * located by offset and size (schema 3c: how the converter writes models
   * past the 2 GB flatbuffer limit) instead of inside it.
   */
  dataAfter?: boolean;
}

export function encodeTflite(m: TfliteModel, options: EncodeOptions = {}): Uint8Array {
  if (!options.dataAfter) return encodeFlatbuffer(m, []);
  // Offsets only change field values, not the layout: a first pass with stand-in offsets gives the size.
  const standIn = m.buffers.map((d) => (d.length > 0 ? 2 : 0));
  let end = align16(encodeFlatbuffer(m, standIn).length);
  const offsets = m.buffers.map((d) => {
    if (d.length === 0) return 0;
    const at = end;
    end = align16(at + d.length);
    return at;
  });
  const out = new Uint8Array(end);
  out.set(encodeFlatbuffer(m, offsets));
  m.buffers.forEach((d, i) => out.set(d, offsets[i]));
  return out;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** `external[i]` > 1: buffer i is stored at that file offset instead of inline. */
function encodeFlatbuffer(m: TfliteModel, external: number[]): Uint8Array {
  const b = new Builder(1024);
  const buffers = m.buffers.map((data, i) => {
    const at = external[i] ?? 0;
    const v = data.length > 0 && at <= 1 ? alignedBytes(b, data) : 0;
    return table(b, () => {
      b.addFieldOffset(S.Buffer.data, v, 0);
      if (at > 1) {
        b.addFieldInt64(S.Buffer.offset, BigInt(at), 0n);
        b.addFieldInt64(S.Buffer.size, BigInt(data.length), 0n);
      }
    });
  });
  const tensors = m.subgraph.tensors.map((t) => encodeTensor(b, t));
  const ops = m.subgraph.ops.map((op) => encodeOp(b, op));
  const codes = m.operatorCodes.map((c) => {
    const custom = c.customCode === undefined ? 0 : b.createString(c.customCode);
    return table(b, () => {
      b.addFieldInt8(S.OperatorCode.deprecatedBuiltinCode, Math.min(c.builtinCode, S.PLACEHOLDER_FOR_GREATER_OP_CODES), 0);
      b.addFieldOffset(S.OperatorCode.customCode, custom, 0);
      b.addFieldInt32(S.OperatorCode.version, c.version, 1);
      b.addFieldInt32(S.OperatorCode.builtinCode, c.builtinCode, 0);
    });
  });

  const sg = m.subgraph;
  const sgName = sg.name === undefined ? 0 : b.createString(sg.name);
  const sgTensors = offsets(b, tensors);
  const sgInputs = i32s(b, sg.inputs);
  const sgOutputs = i32s(b, sg.outputs);
  const sgOps = offsets(b, ops);
  const subgraph = table(b, () => {
    b.addFieldOffset(S.SubGraph.tensors, sgTensors, 0);
    b.addFieldOffset(S.SubGraph.inputs, sgInputs, 0);
    b.addFieldOffset(S.SubGraph.outputs, sgOutputs, 0);
    b.addFieldOffset(S.SubGraph.operators, sgOps, 0);
    b.addFieldOffset(S.SubGraph.name, sgName, 0);
  });

  const mCodes = offsets(b, codes);
  const mSubgraphs = offsets(b, [subgraph]);
  const mDescription = m.description === undefined ? 0 : b.createString(m.description);
  const mBuffers = offsets(b, buffers);
  const model = table(b, () => {
    b.addFieldInt32(S.Model.version, m.version, 0);
    b.addFieldOffset(S.Model.operatorCodes, mCodes, 0);
    b.addFieldOffset(S.Model.subgraphs, mSubgraphs, 0);
    b.addFieldOffset(S.Model.description, mDescription, 0);
    b.addFieldOffset(S.Model.buffers, mBuffers, 0);
  });
  b.finish(model, S.FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

function encodeTensor(b: Builder, t: TfliteTensorRecord): Offset {
  const shape = i32s(b, t.shape);
  const name = b.createString(t.name);
  const quant = t.quant ? encodeQuant(b, t.quant) : 0;
  return table(b, () => {
    b.addFieldOffset(S.Tensor.shape, shape, 0);
    b.addFieldInt8(S.Tensor.type, t.type, 0);
    b.addFieldInt32(S.Tensor.buffer, t.buffer, 0);
    b.addFieldOffset(S.Tensor.name, name, 0);
    b.addFieldOffset(S.Tensor.quantization, quant, 0);
  });
}

function encodeQuant(b: Builder, q: Quant): Offset {
  b.startVector(4, q.scale.length, 4);
  for (let i = q.scale.length - 1; i >= 0; i--) b.addFloat32(q.scale[i]);
  const scale = b.endVector();
  b.startVector(8, q.zeroPoint.length, 8);
  for (let i = q.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(q.zeroPoint[i]));
  const zeroPoint = b.endVector();
  return table(b, () => {
    b.addFieldOffset(S.Quantization.scale, scale, 0);
    b.addFieldOffset(S.Quantization.zeroPoint, zeroPoint, 0);
    b.addFieldInt32(S.Quantization.quantizedDimension, q.axis ?? 0, 0);
  });
}

function encodeOp(b: Builder, op: TfliteOpRecord): Offset {
  const inputs = i32s(b, op.inputs);
  const outputs = i32s(b, op.outputs);
  const vectors = op.options.map((f) => (f.type === 'ints' ? i32s(b, f.value) : 0));
  const options =
    op.optionsType === 0
      ? 0
      : table(b, () =>
          op.options.forEach((f, i) => {
            if (f.type === 'byte') b.addFieldInt8(f.id, f.value, f.def);
            else if (f.type === 'int') b.addFieldInt32(f.id, f.value, f.def);
            else if (f.type === 'float') b.addFieldFloat32(f.id, f.value, f.def);
            else b.addFieldOffset(f.id, vectors[i], 0);
          }),
        );
  return table(b, () => {
    b.addFieldInt32(S.Operator.opcodeIndex, op.opcodeIndex, 0);
    b.addFieldOffset(S.Operator.inputs, inputs, 0);
    b.addFieldOffset(S.Operator.outputs, outputs, 0);
    b.addFieldInt8(S.Operator.builtinOptionsType, op.optionsType, 0);
    b.addFieldOffset(S.Operator.builtinOptions, options, 0);
  });
}

/** A table whose fields `add` writes; the field count only sizes the builder's scratch vtable. */
function table(b: Builder, add: () => void): Offset {
  b.startObject(16);
  add();
  return b.endObject();
}

function i32s(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function offsets(b: Builder, values: readonly Offset[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addOffset(values[i]);
  return b.endVector();
}

/** A [ubyte] vector starting on a 16-byte boundary (the schema's force_align: 16 for buffer data). */
function alignedBytes(b: Builder, bytes: Uint8Array): Offset {
  b.startVector(1, bytes.length, 16);
  for (let i = bytes.length - 1; i >= 0; i--) b.addInt8(bytes[i]);
  return b.endVector();
}
