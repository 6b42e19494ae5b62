// MAX_POOL_2D and AVERAGE_POOL_2D in the graph: a filterH x filterW window per
// channel, with the same quantization on input and output.
import type { PoolGeometry } from '../geometry.ts';
import { convOutSize, padBefore, type Pool2DOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const pool2dShape: OpShape<Pool2DOp, PoolGeometry> = {
  check(op, c) {
    const x = c.input(0, 'inputs[0]');
    c.rank(x, 4, 'inputs[0].shape');
    c.dtype(x, 'int8', 'inputs[0].dtype');
    c.positive(op.strideH, 'strideH');
    c.positive(op.strideW, 'strideW');
    c.positive(op.filterH, 'filterH');
    c.positive(op.filterW, 'filterW');
    const [n, h, wd, ch] = x.shape;
    const oh = convOutSize(h, op.filterH, op.strideH, 1, op.padding);
    const ow = convOutSize(wd, op.filterW, op.strideW, 1, op.padding);
    if (oh < 1 || ow < 1) c.fail('padding', `VALID padding leaves no output for input ${h}x${wd}`);
    const y = c.output();
    c.dtype(y, 'int8', 'outputs[0].dtype');
    c.spatialOutputAtLeast(y, [n, oh, ow, ch]);
    if (x.quant && y.quant && (x.quant.zeroPoint[0] !== y.quant.zeroPoint[0] || Math.abs(x.quant.scale[0] - y.quant.scale[0]) > 1e-6))
      c.fail('outputs[0].quant', 'pooling needs the same scale and zero point on input and output');
  },
  geometry(op, T, base) {
    const x = T[op.inputs[0]];
    const [, h, wd] = x.shape;
    return {
      ...base([op.inputs[0]]),
      kind: op.kind,
      inputShape: [...x.shape],
      filterH: op.filterH,
      filterW: op.filterW,
      strideH: op.strideH,
      strideW: op.strideW,
      padTop: padBefore(h, op.filterH, op.strideH, 1, op.padding),
      padLeft: padBefore(wd, op.filterW, op.strideW, 1, op.padding),
    };
  },
};
