// CONV_2D in the graph: filter [outC, kh, kw, inC] over all input channels.
import type { ConvGeometry } from '../geometry.ts';
import type { Conv2DOp } from '../ir.ts';
import type { OpShape } from './check.ts';
import { checkConvolution, convGeometry } from './convolution.ts';

export const conv2dShape: OpShape<Conv2DOp, ConvGeometry> = {
  check: (op, c) =>
    checkConvolution(op, c, (w, ch) => {
      if (w.shape[3] !== ch) c.fail('inputs[1].shape', `filter depth ${w.shape[3]} != input channels ${ch}`);
      return w.shape[0];
    }),
  geometry: convGeometry,
};
