// DEPTHWISE_CONV_2D in the graph: filter [1, kh, kw, inC * depthMultiplier], one input channel per output.
import type { ConvGeometry } from '../geometry.ts';
import type { DepthwiseConv2DOp } from '../ir.ts';
import type { OpShape } from './check.ts';
import { checkConvolution, convGeometry } from './convolution.ts';

export const depthwiseConv2dShape: OpShape<DepthwiseConv2DOp, ConvGeometry> = {
  check: (op, c) =>
    checkConvolution(op, c, (w, ch) => {
      c.positive(op.depthMultiplier, 'depthMultiplier');
      const oc = w.shape[3];
      if (w.shape[0] !== 1) c.fail('inputs[1].shape', `depthwise filter must be [1,kh,kw,C*m], got [${w.shape}]`);
      if (oc !== ch * op.depthMultiplier)
        c.fail('depthMultiplier', `filter channels ${oc} != input channels ${ch} x depth multiplier ${op.depthMultiplier}`);
      return oc;
    }),
  geometry: convGeometry,
};
