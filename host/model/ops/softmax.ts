// SOFTMAX in the graph: int8 in, int8 or int16 out, same shape, positive beta.
import type { SoftmaxGeometry } from '../geometry.ts';
import { numElements, type SoftmaxOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const softmaxShape: OpShape<SoftmaxOp, SoftmaxGeometry> = {
  check(op, c) {
    const x = c.input(0, 'inputs[0]');
    c.dtype(x, 'int8', 'inputs[0].dtype');
    c.quant(x, 'inputs[0].quant');
    if (!(op.beta > 0)) c.fail('beta', `must be positive, got ${op.beta}`);
    const y = c.output();
    c.dtype(y, ['int8', 'int16'], 'outputs[0].dtype');
    c.quant(y, 'outputs[0].quant');
    c.outputShape(y, x.shape);
  },
  geometry(op, T, base) {
    const x = T[op.inputs[0]];
    const depth = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1];
    return { ...base([op.inputs[0]]), kind: 'SOFTMAX', rows: depth === 0 ? 0 : numElements(x.shape) / depth, depth };
  },
};
