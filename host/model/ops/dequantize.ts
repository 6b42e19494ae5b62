// DEQUANTIZE in the graph: quantized int8 in, float32 of the same shape out.
import type { DequantizeGeometry } from '../geometry.ts';
import type { QuantizeOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const dequantizeShape: OpShape<QuantizeOp, DequantizeGeometry> = {
  check(_op, c) {
    const x = c.input(0, 'inputs[0]');
    const y = c.output();
    c.dtype(x, 'int8', 'inputs[0].dtype');
    c.quant(x, 'inputs[0].quant');
    c.dtype(y, 'float32', 'outputs[0].dtype');
    c.outputShape(y, x.shape);
  },
  geometry: (op, _T, base) => ({ ...base([op.inputs[0]]), kind: 'DEQUANTIZE' }),
};
