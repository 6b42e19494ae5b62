// A float sequential CNN as the bundled models' training produced it: layer
// specs and weights (tools/models/ trains and quantizes them; eval reads
// them back from a .msf file to show the float accuracy beside the int8 one).
import type { Padding } from '../model/ir.ts';

export type FloatActivation = 'NONE' | 'RELU' | 'RELU6';

/** Layer descriptions of a sequential model, without weights. Kernel
 * layouts are those of the training framework (tfjs/Keras): conv
 * [kh, kw, in, out], depthwise [kh, kw, in, multiplier], dense [in, units]. */
export interface ConvSpec {
  kind: 'conv2d';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  activation: FloatActivation;
}
export interface DepthwiseSpec {
  kind: 'depthwise';
  depthMultiplier: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: Padding;
  activation: FloatActivation;
}
export interface DenseSpec {
  kind: 'dense';
  units: number;
  activation: FloatActivation;
}
export interface PoolSpec {
  kind: 'maxpool' | 'avgpool';
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}
export interface FlattenSpec {
  kind: 'flatten';
}
export interface SoftmaxSpec {
  kind: 'softmax';
}
export type LayerSpec = ConvSpec | DepthwiseSpec | DenseSpec | PoolSpec | FlattenSpec | SoftmaxSpec;
export type WeightedSpec = ConvSpec | DepthwiseSpec | DenseSpec;

export interface LayerWeights {
  kernel: Float32Array;
  kernelShape: number[];
  bias: Float32Array;
}

export type FloatLayer = (WeightedSpec & LayerWeights) | PoolSpec | FlattenSpec | SoftmaxSpec;

export interface FloatModel {
  name: string;
  /** Shape of one input sample without the batch axis, e.g. [28, 28, 1]. */
  inputShape: number[];
  /** How the int8 input maps to the float input the model was trained on. */
  inputQuant: { scale: number; zeroPoint: number };
  layers: FloatLayer[];
}

export function hasWeights(l: FloatLayer): l is WeightedSpec & LayerWeights {
  return l.kind === 'conv2d' || l.kind === 'depthwise' || l.kind === 'dense';
}
