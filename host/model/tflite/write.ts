// Graph -> .tflite. Writes one subgraph the way TensorFlow's converter lays it
// out (schema version 3, buffer 0 the empty sentinel, one buffer per constant,
// 16-byte aligned data) so TFLite and TFLite Micro interpreters load it.
import { Builder } from 'flatbuffers';
import { validateGraph, type Graph, type Op, type OpKind, type Quant, type Tensor } from '../ir.ts';
import * as S from './schema.ts';

type Offset = number;

export function writeTflite(graph: Graph): Uint8Array {
  validateGraph(graph);
  const b = new Builder(1024);

  const bufferOf: number[] = [];
  const buffers: Offset[] = [table(b, () => {})];
  graph.tensors.forEach((t, i) => {
    if (!t.data) return (bufferOf[i] = 0);
    const data = alignedBytes(b, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    bufferOf[i] = buffers.length;
    buffers.push(table(b, () => b.addFieldOffset(S.Buffer.data, data, 0)));
  });

  const tensors = graph.tensors.map((t, i) => writeTensor(b, t, bufferOf[i]));

  const kinds: OpKind[] = [...new Set(graph.ops.map((op) => op.kind))];
  const operators = graph.ops.map((op) => writeOp(b, op, kinds.indexOf(op.kind)));
  const codes = kinds.map((kind) => {
    const code = S.BUILTIN_CODE[kind];
    return table(b, () => {
      b.addFieldInt8(S.OperatorCode.deprecatedBuiltinCode, Math.min(code, S.PLACEHOLDER_FOR_GREATER_OP_CODES), 0);
      b.addFieldInt32(S.OperatorCode.version, S.INT8_OP_VERSION[kind], 1);
      b.addFieldInt32(S.OperatorCode.builtinCode, code, 0);
    });
  });

  const sgName = graph.name === undefined ? 0 : b.createString(graph.name);
  const sgTensors = offsets(b, tensors);
  const sgInputs = i32s(b, graph.inputs);
  const sgOutputs = i32s(b, graph.outputs);
  const sgOps = offsets(b, operators);
  const subgraph = table(b, () => {
    b.addFieldOffset(S.SubGraph.tensors, sgTensors, 0);
    b.addFieldOffset(S.SubGraph.inputs, sgInputs, 0);
    b.addFieldOffset(S.SubGraph.outputs, sgOutputs, 0);
    b.addFieldOffset(S.SubGraph.operators, sgOps, 0);
    b.addFieldOffset(S.SubGraph.name, sgName, 0);
  });

  const mCodes = offsets(b, codes);
  const mSubgraphs = offsets(b, [subgraph]);
  const mDescription = b.createString('microsplit');
  const mBuffers = offsets(b, buffers);
  const model = table(b, () => {
    b.addFieldInt32(S.Model.version, S.SCHEMA_VERSION, 0);
    b.addFieldOffset(S.Model.operatorCodes, mCodes, 0);
    b.addFieldOffset(S.Model.subgraphs, mSubgraphs, 0);
    b.addFieldOffset(S.Model.description, mDescription, 0);
    b.addFieldOffset(S.Model.buffers, mBuffers, 0);
  });
  b.finish(model, S.FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

function writeTensor(b: Builder, t: Tensor, buffer: number): Offset {
  const shape = i32s(b, t.shape);
  const name = b.createString(t.name);
  const quant = t.quant ? writeQuant(b, t.quant) : 0;
  return table(b, () => {
    b.addFieldOffset(S.Tensor.shape, shape, 0);
    b.addFieldInt8(S.Tensor.type, S.TENSOR_TYPE[t.dtype], 0);
    b.addFieldInt32(S.Tensor.buffer, buffer, 0);
    b.addFieldOffset(S.Tensor.name, name, 0);
    b.addFieldOffset(S.Tensor.quantization, quant, 0);
  });
}

function writeQuant(b: Builder, q: Quant): Offset {
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

function writeOp(b: Builder, op: Op, opcodeIndex: number): Offset {
  const inputs = i32s(b, op.inputs);
  const outputs = i32s(b, op.outputs);
  const options = writeOptions(b, op);
  return table(b, () => {
    b.addFieldInt32(S.Operator.opcodeIndex, opcodeIndex, 0);
    b.addFieldOffset(S.Operator.inputs, inputs, 0);
    b.addFieldOffset(S.Operator.outputs, outputs, 0);
    b.addFieldInt8(S.Operator.builtinOptionsType, S.BUILTIN_OPTIONS[op.kind], 0);
    b.addFieldOffset(S.Operator.builtinOptions, options, 0);
  });
}

function writeOptions(b: Builder, op: Op): Offset {
  const act = (id: number, a: keyof typeof S.ACTIVATION) => b.addFieldInt8(id, S.ACTIVATION[a], 0);
  const pad = (id: number, p: 'SAME' | 'VALID') => b.addFieldInt8(id, S.PADDING.indexOf(p), 0);
  switch (op.kind) {
    case 'CONV_2D': {
      const C = S.Conv2DOptions;
      return table(b, () => {
        pad(C.padding, op.padding);
        b.addFieldInt32(C.strideW, op.strideW, 0);
        b.addFieldInt32(C.strideH, op.strideH, 0);
        act(C.activation, op.activation);
        b.addFieldInt32(C.dilationW, op.dilationW, 1);
        b.addFieldInt32(C.dilationH, op.dilationH, 1);
      });
    }
    case 'DEPTHWISE_CONV_2D': {
      const C = S.DepthwiseConv2DOptions;
      return table(b, () => {
        pad(C.padding, op.padding);
        b.addFieldInt32(C.strideW, op.strideW, 0);
        b.addFieldInt32(C.strideH, op.strideH, 0);
        b.addFieldInt32(C.depthMultiplier, op.depthMultiplier, 0);
        act(C.activation, op.activation);
        b.addFieldInt32(C.dilationW, op.dilationW, 1);
        b.addFieldInt32(C.dilationH, op.dilationH, 1);
      });
    }
    case 'FULLY_CONNECTED':
      return table(b, () => {
        act(S.FullyConnectedOptions.activation, op.activation);
        b.addFieldInt8(S.FullyConnectedOptions.keepNumDims, op.keepNumDims ? 1 : 0, 0);
      });
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const C = S.Pool2DOptions;
      return table(b, () => {
        pad(C.padding, op.padding);
        b.addFieldInt32(C.strideW, op.strideW, 0);
        b.addFieldInt32(C.strideH, op.strideH, 0);
        b.addFieldInt32(C.filterW, op.filterW, 0);
        b.addFieldInt32(C.filterH, op.filterH, 0);
        act(C.activation, op.activation);
      });
    }
    case 'ADD':
      return table(b, () => act(S.AddOptions.activation, op.activation));
    case 'RESHAPE': {
      const newShape = i32s(b, op.newShape);
      return table(b, () => b.addFieldOffset(S.ReshapeOptions.newShape, newShape, 0));
    }
    case 'SOFTMAX':
      return table(b, () => b.addFieldFloat32(S.SoftmaxOptions.beta, op.beta, 0));
    case 'QUANTIZE':
    case 'DEQUANTIZE':
      return table(b, () => {});
  }
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
