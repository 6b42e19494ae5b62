// The checks conv and depthwise conv share: an int8 NHWC input, a constant
// 4-D int8 filter, optional int32 bias per output channel, positive strides
// and dilations, and an output at least as large as TFLite's padding formula;
// and the geometry they share.
import type { ConvGeometry, GeometryBase } from '../geometry.ts';
import { convOutSize, numElements, padBefore, type Conv2DOp, type DepthwiseConv2DOp, type Tensor } from '../ir.ts';
import type { OpChecks } from './check.ts';

/**
 * Checks a convolution; `outChannels` checks the filter against the input's
 * channels (the part where the two ops differ) and returns the output channels.
 */
export function checkConvolution<O extends Conv2DOp | DepthwiseConv2DOp>(
  op: O,
  c: OpChecks,
  outChannels: (w: Tensor, inChannels: number) => number,
): void {
  const x = c.input(0, 'inputs[0]');
  const w = c.input(1, 'inputs[1]');
  c.rank(x, 4, 'inputs[0].shape');
  c.rank(w, 4, 'inputs[1].shape');
  c.dtype(x, 'int8', 'inputs[0].dtype');
  c.dtype(w, 'int8', 'inputs[1].dtype');
  c.quant(x, 'inputs[0].quant');
  c.quant(w, 'inputs[1].quant');
  if (!w.data) c.fail('inputs[1]', 'weights must be constant');
  c.positive(op.strideH, 'strideH');
  c.positive(op.strideW, 'strideW');
  c.positive(op.dilationH, 'dilationH');
  c.positive(op.dilationW, 'dilationW');
  const [n, h, wd, ch] = x.shape;
  const oc = outChannels(w, ch);
  const kh = w.shape[1];
  const kw = w.shape[2];
  const nScales = w.quant!.scale.length;
  if (nScales !== 1 && nScales !== oc) c.fail('inputs[1].quant', `${nScales} scales for ${oc} output channels`);
  const b = c.optionalInput(2, 'inputs[2]');
  if (b) {
    c.dtype(b, 'int32', 'inputs[2].dtype');
    if (numElements(b.shape) !== oc) c.fail('inputs[2].shape', `bias has ${numElements(b.shape)} values for ${oc} channels`);
    if (!b.data) c.fail('inputs[2]', 'bias must be constant');
  }
  const oh = convOutSize(h, kh, op.strideH, op.dilationH, op.padding);
  const ow = convOutSize(wd, kw, op.strideW, op.dilationW, op.padding);
  if (oh < 1 || ow < 1) c.fail('padding', `VALID padding leaves no output for input ${h}x${wd} and kernel ${kh}x${kw}`);
  const y = c.output();
  c.dtype(y, 'int8', 'outputs[0].dtype');
  c.quant(y, 'outputs[0].quant');
  c.spatialOutputAtLeast(y, [n, oh, ow, oc]);
}

export function convGeometry(op: Conv2DOp | DepthwiseConv2DOp, T: readonly Tensor[], base: (inputs: number[]) => GeometryBase): ConvGeometry {
  const x = T[op.inputs[0]];
  const w = T[op.inputs[1]].shape;
  const [, h, wd] = x.shape;
  return {
    ...base([op.inputs[0]]),
    kind: op.kind,
    inputShape: [...x.shape],
    filterShape: [...w],
    strideH: op.strideH,
    strideW: op.strideW,
    dilationH: op.dilationH,
    dilationW: op.dilationW,
    padTop: padBefore(h, w[1], op.strideH, op.dilationH, op.padding),
    padLeft: padBefore(wd, w[2], op.strideW, op.dilationW, op.padding),
    depthMultiplier: op.kind === 'CONV_2D' ? 1 : op.depthMultiplier,
  };
}
