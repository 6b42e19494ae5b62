// QUANTIZE in the graph: float32 (the model's float edge) or int8 (a
// requantization) in, quantized int8 of the same shape out.
import type { QuantizeGeometry } from '../geometry.ts';
import type { QuantizeOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const quantizeShape: OpShape<QuantizeOp, QuantizeGeometry> = {
  check(_op, c) {
    const x = c.input(0, 'inputs[0]');
    const y = c.output();
    c.dtype(x, ['float32', 'int8'], 'inputs[0].dtype');
    c.dtype(y, 'int8', 'outputs[0].dtype');
    c.quant(y, 'outputs[0].quant');
    c.outputShape(y, x.shape);
  },
  geometry: (op, T, base) => ({ ...base([op.inputs[0]]), kind: 'QUANTIZE', from: T[op.inputs[0]].dtype === 'float32' ? 'float32' : 'int8' }),
};
