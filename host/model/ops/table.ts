// The model half of every op kind, one file each beside this table: the
// shapes, dtypes and options a valid op has (validate.ts asks it for every op
// of a graph). The device half of the same op is host/abi/ops/<op>.ts.
import type { Op, OpKind } from '../ir.ts';
import { addShape } from './add.ts';
import type { OpShape } from './check.ts';
import { conv2dShape } from './conv-2d.ts';
import { depthwiseConv2dShape } from './depthwise-conv-2d.ts';
import { dequantizeShape } from './dequantize.ts';
import { fullyConnectedShape } from './fully-connected.ts';
import { pool2dShape } from './pool-2d.ts';
import { quantizeShape } from './quantize.ts';
import { reshapeShape } from './reshape.ts';
import { softmaxShape } from './softmax.ts';

const SHAPES: Record<OpKind, OpShape<never>> = {
  CONV_2D: conv2dShape,
  DEPTHWISE_CONV_2D: depthwiseConv2dShape,
  FULLY_CONNECTED: fullyConnectedShape,
  MAX_POOL_2D: pool2dShape,
  AVERAGE_POOL_2D: pool2dShape,
  ADD: addShape,
  RESHAPE: reshapeShape,
  SOFTMAX: softmaxShape,
  QUANTIZE: quantizeShape,
  DEQUANTIZE: dequantizeShape,
};

/** The shape rules of an op's kind, or undefined for a kind the IR does not have. */
export function shapeOf<O extends Op>(op: O): OpShape<O> | undefined {
  return Object.hasOwn(SHAPES, op.kind) ? (SHAPES[op.kind] as OpShape<O>) : undefined;
}
