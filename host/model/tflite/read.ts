// .tflite -> Graph. Reads the first subgraph of a TFLite flatbuffer into the
// IR, then validates it (shapes, dtypes, quantization) with `validateGraph`.
// Anything the IR cannot express is refused with one line naming the op, its
// index and the option.
import { GraphError, type Activation, type DType, type Graph, type Op, type Padding, type Tensor, type TensorData } from '../ir.ts';
import { validateGraph } from '../validate.ts';
import { FlatError, FlatTable, rootTable } from './flat.ts';
import * as S from './schema.ts';

export class TfliteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfliteError';
  }
}

/** TFLite's kernels take tensors of up to 6 dimensions (most of them 4). */
const MAX_RANK = 6;
const DTYPE_OF_TYPE = new Map<number, DType>(Object.entries(S.TENSOR_TYPE).map(([d, t]) => [t, d as DType]));
const KIND_OF_CODE = new Map<number, Op['kind']>(Object.entries(S.BUILTIN_CODE).map(([k, c]) => [c, k as Op['kind']]));

export function readTflite(bytes: Uint8Array): Graph {
  try {
    return validateGraph(readModel(bytes));
  } catch (e) {
    // Names inside messages come from the file: control characters are escaped to keep the message one line.
    if (e instanceof FlatError || e instanceof GraphError || e instanceof TfliteError) throw new TfliteError(oneLine(e.message));
    throw e;
  }
}

function oneLine(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function readModel(bytes: Uint8Array): Graph {
  const model = rootTable(bytes, S.FILE_IDENTIFIER, '.tflite');
  const version = model.u32(S.Model.version);
  if (version !== S.SCHEMA_VERSION) throw new TfliteError(`schema version ${version} is not supported (only ${S.SCHEMA_VERSION})`);
  const subgraphs = model.tables(S.Model.subgraphs, 'subgraphs');
  if (subgraphs.length === 0) throw new TfliteError('model has no subgraph');
  const sg = subgraphs[0];
  const buffers = model.tables(S.Model.buffers, 'buffers');
  const codes = model.tables(S.Model.operatorCodes, 'operator_codes').map(builtinCode);

  const tensors = sg.tables(S.SubGraph.tensors, 'tensors').map((t, i) => readTensor(t, i, buffers, bytes));
  const ops = sg.tables(S.SubGraph.operators, 'operators').map((o, i) => readOp(o, i, codes, tensors));
  return {
    name: sg.string(S.SubGraph.name, 'name') || model.string(S.Model.description, 'description') || undefined,
    tensors,
    ops,
    inputs: sg.i32s(S.SubGraph.inputs, 'inputs'),
    outputs: sg.i32s(S.SubGraph.outputs, 'outputs'),
  };
}

/** The operator's builtin code, or a string naming the custom op. TFLite takes the larger of the two code fields. */
function builtinCode(oc: FlatTable): number | string {
  const custom = oc.string(S.OperatorCode.customCode, 'custom_code');
  if (custom !== undefined) return custom;
  return Math.max(oc.i8(S.OperatorCode.deprecatedBuiltinCode), oc.i32(S.OperatorCode.builtinCode));
}

function readTensor(t: FlatTable, index: number, buffers: FlatTable[], file: Uint8Array): Tensor {
  const name = t.string(S.Tensor.name, 'name') ?? `tensor_${index}`;
  const where = `tensor ${index} (${printable(name)})`;
  const type = t.i8(S.Tensor.type);
  const dtype = DTYPE_OF_TYPE.get(type);
  if (!dtype) throw new TfliteError(`${where}: type ${S.TENSOR_TYPE_NAMES[type] ?? type} is not supported`);
  if (t.has(S.Tensor.sparsity)) throw new TfliteError(`${where}: sparse tensors are not supported`);
  const tensor: Tensor = { name, shape: t.i32s(S.Tensor.shape, 'shape'), dtype };
  if (tensor.shape.length > MAX_RANK) throw new TfliteError(`${where}: rank ${tensor.shape.length} is not supported (at most ${MAX_RANK})`);
  if (tensor.shape.some((d) => d < 0)) throw new TfliteError(`${where}: dynamic shape [${tensor.shape}] is not supported`);

  const q = t.table(S.Tensor.quantization, `${where} quantization`);
  if (q) {
    if (q.u8(S.Quantization.detailsType) !== 0) throw new TfliteError(`${where}: custom quantization is not supported`);
    const scale = q.f32s(S.Quantization.scale, 'scale');
    if (scale.length > 0) {
      tensor.quant = { scale, zeroPoint: q.i64s(S.Quantization.zeroPoint, 'zero_point') };
      if (scale.length > 1) tensor.quant.axis = quantAxis(q.i32(S.Quantization.quantizedDimension), tensor.shape, scale.length);
    }
  }

  const bi = t.u32(S.Tensor.buffer);
  if (bi >= buffers.length) throw new TfliteError(`${where}: buffer index ${bi} out of range (${buffers.length} buffers)`);
  const raw = bufferBytes(buffers[bi], file, where);
  if (raw.length > 0) tensor.data = typedData(raw, dtype, where);
  return tensor;
}

/** A name from the file as it appears in a message: at most 80 characters. */
function printable(name: string): string {
  return name.length > 80 ? `${name.slice(0, 77)}...` : name;
}

/**
 * The converter gives a per-channel bias the filter's quantized dimension
 * (3 for a depthwise filter) although the bias is 1-D; its only axis is meant.
 */
function quantAxis(written: number, shape: number[], scales: number): number {
  return shape.length === 1 && written >= 1 && shape[0] === scales ? 0 : written;
}

/** A buffer's bytes: inside the flatbuffer, or (schema 3c, large models) at an offset from the file start. */
function bufferBytes(b: FlatTable, file: Uint8Array, where: string): Uint8Array {
  const offset = b.u64(S.Buffer.offset);
  if (offset > 1) {
    const size = b.u64(S.Buffer.size);
    if (offset + size > file.length)
      throw new TfliteError(`${where}: data at bytes ${offset}..${offset + size} lies outside the file of ${file.length} bytes: truncated`);
    return file.subarray(offset, offset + size);
  }
  return b.bytes(S.Buffer.data, `${where} data`);
}

function typedData(raw: Uint8Array, dtype: DType, where: string): TensorData {
  const copy = new Uint8Array(raw); // a copy: aligned, independent of the file (Buffer.slice would be a view)
  switch (dtype) {
    case 'int8':
      return new Int8Array(copy.buffer);
    case 'int16':
    case 'int32':
    case 'float32': {
      const size = dtype === 'int16' ? 2 : 4;
      if (copy.length % size !== 0) throw new TfliteError(`${where}: ${copy.length} data bytes are not a whole number of ${dtype} values`);
      return dtype === 'int16' ? new Int16Array(copy.buffer) : dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    }
  }
}

function readOp(o: FlatTable, index: number, codes: (number | string)[], tensors: Tensor[]): Op {
  const ci = o.u32(S.Operator.opcodeIndex);
  if (ci >= codes.length) throw new TfliteError(`op ${index}: opcode index ${ci} out of range (${codes.length} operator codes)`);
  const code = codes[ci];
  if (typeof code === 'string') throw new TfliteError(`op ${index}: custom op "${printable(code)}" is not supported`);
  const kind = KIND_OF_CODE.get(code);
  if (!kind) throw new TfliteError(`op ${index}: unsupported op ${S.builtinName(code)}`);
  const where = `op ${index} (${kind})`;
  const unsupported = (what: string): never => {
    throw new TfliteError(`${where}: ${what} is not supported`);
  };
  const io = { inputs: o.i32s(S.Operator.inputs, 'inputs'), outputs: o.i32s(S.Operator.outputs, 'outputs') };
  if (o.bytes(S.Operator.customOptions, 'custom_options').length > 0) unsupported('custom_options');

  const optionsType = o.u8(S.Operator.builtinOptionsType);
  const expected = S.BUILTIN_OPTIONS[kind];
  if (optionsType !== 0 && optionsType !== expected) throw new TfliteError(`${where}: builtin options of type ${optionsType}, expected ${expected}`);
  // An absent options table means all defaults, as in TFLite's parser.
  const opt = o.table(S.Operator.builtinOptions, `${where} options`);
  const get = {
    i32: (id: number, def = 0) => opt?.i32(id, def) ?? def,
    byte: (id: number, def = 0) => opt?.i8(id, def) ?? def,
    bool: (id: number) => opt?.bool(id) ?? false,
  };
  const padding = (id: number): Padding => S.PADDING[get.byte(id)] ?? unsupported(`padding ${get.byte(id)}`);
  const activation = (id: number): Activation => {
    const name = S.ACTIVATION_NAMES[get.byte(id)] ?? String(get.byte(id));
    return name in S.ACTIVATION ? (name as Activation) : unsupported(`fused activation ${name}`);
  };
  const biasType = (id: number) => {
    const t = get.byte(id);
    if (t !== 0 && t !== S.TENSOR_TYPE.int32) unsupported(`quantized_bias_type ${S.TENSOR_TYPE_NAMES[t] ?? t}`);
  };

  switch (kind) {
    case 'CONV_2D': {
      const C = S.Conv2DOptions;
      biasType(C.quantizedBiasType);
      return {
        kind, ...io, padding: padding(C.padding), strideH: get.i32(C.strideH), strideW: get.i32(C.strideW),
        dilationH: get.i32(C.dilationH, 1), dilationW: get.i32(C.dilationW, 1), activation: activation(C.activation),
      };
    }
    case 'DEPTHWISE_CONV_2D': {
      const C = S.DepthwiseConv2DOptions;
      return {
        kind, ...io, padding: padding(C.padding), strideH: get.i32(C.strideH), strideW: get.i32(C.strideW),
        dilationH: get.i32(C.dilationH, 1), dilationW: get.i32(C.dilationW, 1),
        depthMultiplier: depthMultiplier(get.i32(C.depthMultiplier), io.inputs, tensors),
        activation: activation(C.activation),
      };
    }
    case 'FULLY_CONNECTED': {
      const C = S.FullyConnectedOptions;
      if (get.byte(C.weightsFormat) !== 0) unsupported('weights_format SHUFFLED4x16INT8');
      if (get.bool(C.asymmetricQuantizeInputs)) unsupported('asymmetric_quantize_inputs (hybrid quantization)');
      biasType(C.quantizedBiasType);
      return { kind, ...io, activation: activation(C.activation), keepNumDims: get.bool(C.keepNumDims) };
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D': {
      const C = S.Pool2DOptions;
      return {
        kind, ...io, padding: padding(C.padding), strideH: get.i32(C.strideH), strideW: get.i32(C.strideW),
        filterH: get.i32(C.filterH), filterW: get.i32(C.filterW), activation: activation(C.activation),
      };
    }
    case 'ADD':
      return { kind, ...io, activation: activation(S.AddOptions.activation) };
    case 'RESHAPE':
      return { kind, ...io, newShape: reshapeTarget(opt, io, tensors) };
    case 'SOFTMAX':
      return { kind, ...io, beta: opt?.f32(S.SoftmaxOptions.beta) ?? 0 };
    case 'QUANTIZE':
    case 'DEQUANTIZE':
      return { kind, ...io };
  }
}

/** The converter may write 0 (TF >= 2.1 ignores the field); then it follows from the channel counts. */
function depthMultiplier(written: number, inputs: number[], tensors: Tensor[]): number {
  if (written > 0) return written;
  const x = tensors[inputs[0]];
  const w = tensors[inputs[1]];
  const c = x?.shape[3];
  const oc = w?.shape[3];
  return c && oc && oc % c === 0 ? oc / c : written;
}

/** RESHAPE's target: its options, else its constant shape input, else the output tensor's shape. */
function reshapeTarget(opt: FlatTable | undefined, io: { inputs: number[]; outputs: number[] }, tensors: Tensor[]): number[] {
  if (opt?.has(S.ReshapeOptions.newShape)) return opt.i32s(S.ReshapeOptions.newShape, 'new_shape');
  const shapeInput = tensors[io.inputs[1]];
  if (shapeInput?.data) return Array.from(shapeInput.data);
  return [...(tensors[io.outputs[0]]?.shape ?? [])];
}
