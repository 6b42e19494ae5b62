// The parts of TFLite's flatbuffer schema (tensorflow/lite/schema/schema.fbs,
// file identifier "TFL3") that microsplit reads and writes: ids of the fields
// it touches and the enum values it maps to the IR. A field id is the field's
// position in its table declaration; a union takes two ids (its type tag,
// then its value), so ids skip where fields go unused here.
import type { Activation, DType, OpKind, Padding } from '../ir.ts';

export const FILE_IDENTIFIER = 'TFL3';
/** The schema version the converter writes today (buffers in Model.buffers). */
export const SCHEMA_VERSION = 3;

export const Model = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;
export const OperatorCode = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;
export const SubGraph = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
export const Tensor = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, sparsity: 6 } as const;
export const Quantization = { scale: 2, zeroPoint: 3, detailsType: 4, quantizedDimension: 6 } as const;
export const Operator = {
  opcodeIndex: 0,
  inputs: 1,
  outputs: 2,
  builtinOptionsType: 3,
  builtinOptions: 4,
  customOptions: 5,
} as const;
/** `offset`/`size` (schema 3c): data stored after the flatbuffer, offset from the file start; valid when offset > 1. */
export const Buffer = { data: 0, offset: 1, size: 2 } as const;

export const Conv2DOptions = { padding: 0, strideW: 1, strideH: 2, activation: 3, dilationW: 4, dilationH: 5, quantizedBiasType: 6 } as const;
export const DepthwiseConv2DOptions = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  depthMultiplier: 3,
  activation: 4,
  dilationW: 5,
  dilationH: 6,
} as const;
export const Pool2DOptions = { padding: 0, strideW: 1, strideH: 2, filterW: 3, filterH: 4, activation: 5 } as const;
export const FullyConnectedOptions = { activation: 0, weightsFormat: 1, keepNumDims: 2, asymmetricQuantizeInputs: 3, quantizedBiasType: 4 } as const;
export const SoftmaxOptions = { beta: 0 } as const;
export const AddOptions = { activation: 0 } as const;
export const ReshapeOptions = { newShape: 0 } as const;

/** TensorType enum values the IR has a dtype for. */
export const TENSOR_TYPE: Record<DType, number> = { float32: 0, int32: 2, int16: 7, int8: 9 };
/** Every TensorType name, by value, for error messages. */
export const TENSOR_TYPE_NAMES = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8',
  'FLOAT64', 'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4',
];

/** BuiltinOperator codes of the ops the IR has. */
export const BUILTIN_CODE: Record<OpKind, number> = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  MAX_POOL_2D: 17,
  RESHAPE: 22,
  SOFTMAX: 25,
  QUANTIZE: 114,
};

/** Codes below this fit the byte-wide `deprecated_builtin_code`; TFLite takes the larger of the two fields. */
export const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

/** BuiltinOptions union tags, for the options tables microsplit writes. */
export const BUILTIN_OPTIONS: Record<OpKind, number> = {
  CONV_2D: 1,
  DEPTHWISE_CONV_2D: 2,
  MAX_POOL_2D: 5,
  AVERAGE_POOL_2D: 5,
  FULLY_CONNECTED: 8,
  SOFTMAX: 9,
  ADD: 11,
  RESHAPE: 17,
  DEQUANTIZE: 38,
  QUANTIZE: 89,
};

/** Operator versions TensorFlow's converter gives these ops with int8 tensors (TFLite checks a version range per op). */
export const INT8_OP_VERSION: Record<OpKind, number> = {
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 3,
  FULLY_CONNECTED: 4,
  MAX_POOL_2D: 2,
  AVERAGE_POOL_2D: 2,
  ADD: 2,
  RESHAPE: 1,
  SOFTMAX: 2,
  QUANTIZE: 2,
  DEQUANTIZE: 2,
};

export const PADDING: Padding[] = ['SAME', 'VALID'];
/** ActivationFunctionType by value; TANH and SIGN_BIT have no IR counterpart. */
export const ACTIVATION_NAMES = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];
export const ACTIVATION: Record<Activation, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3 };

/**
 * BuiltinOperator names by code (0..161), so an unsupported op is named in
 * the error rather than given as a number.
 */
export const BUILTIN_NAMES = `ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION
LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX
SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD
UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE
UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE
BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL
SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW
ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN
FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU
SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU
REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4
NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES
CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT
HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS
RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1
UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST
BITWISE_XOR RIGHT_SHIFT`.split(/\s+/);

export function builtinName(code: number): string {
  return BUILTIN_NAMES[code] ?? `builtin operator ${code}`;
}
