// The shape arithmetic of every op, without its quantization: shapes,
// windows, strides, padding offsets. Each op kind's file in ops/ builds its
// geometry (ops/table.ts: geometryOf). The planner reasons with it on graphs
// whose scales it never needs; op-params.ts builds each op's full parameters
// on top of it, so both read the same padding.
export interface GeometryBase {
  opIndex: number;
  /** Tensor ids of the data inputs, in the order runOpBox takes their tiles. */
  inputs: number[];
  /** Tensor id of the output. */
  output: number;
  outputShape: number[];
}

export interface ConvGeometry extends GeometryBase {
  kind: 'CONV_2D' | 'DEPTHWISE_CONV_2D';
  /** [N, H, W, C] */
  inputShape: number[];
  /** CONV_2D: [outC, kh, kw, inC]; DEPTHWISE_CONV_2D: [1, kh, kw, inC * depthMultiplier]. */
  filterShape: number[];
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  /** Top/left padding offset: input row of output row y is y * strideH - padTop (+ ky * dilationH). */
  padTop: number;
  padLeft: number;
  /** 1 for CONV_2D; output channel = inputChannel * depthMultiplier + m for depthwise. */
  depthMultiplier: number;
}

export interface FullyConnectedGeometry extends GeometryBase {
  kind: 'FULLY_CONNECTED';
  inputShape: number[];
  /** The input is read as [batches, depth], the output as [batches, units]. */
  batches: number;
  depth: number;
  units: number;
}

export interface PoolGeometry extends GeometryBase {
  kind: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D';
  inputShape: number[];
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

export interface AddGeometry extends GeometryBase {
  kind: 'ADD';
  input1Shape: number[];
  input2Shape: number[];
}

export interface ReshapeGeometry extends GeometryBase {
  kind: 'RESHAPE';
  inputShape: number[];
}

export interface SoftmaxGeometry extends GeometryBase {
  kind: 'SOFTMAX';
  /** Rows are the last axis; all others are flattened. */
  rows: number;
  depth: number;
}

export interface QuantizeGeometry extends GeometryBase {
  kind: 'QUANTIZE';
  /** float32 -> int8 is the model's float edge; int8 -> int8 is a requantization. */
  from: 'float32' | 'int8';
}

export interface DequantizeGeometry extends GeometryBase {
  kind: 'DEQUANTIZE';
}

export type OpGeometry =
  | ConvGeometry
  | FullyConnectedGeometry
  | PoolGeometry
  | AddGeometry
  | ReshapeGeometry
  | SoftmaxGeometry
  | QuantizeGeometry
  | DequantizeGeometry;
