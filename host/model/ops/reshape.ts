// RESHAPE in the graph: the same values and dtype in another shape.
import type { ReshapeGeometry } from '../geometry.ts';
import { numElements, type ReshapeOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const reshapeShape: OpShape<ReshapeOp, ReshapeGeometry> = {
  check(_op, c) {
    const x = c.input(0, 'inputs[0]');
    const y = c.output();
    if (numElements(x.shape) !== numElements(y.shape))
      c.fail('outputs[0].shape', `[${y.shape}] holds ${numElements(y.shape)} values, input [${x.shape}] has ${numElements(x.shape)}`);
    if (x.dtype !== y.dtype) c.fail('outputs[0].dtype', `${y.dtype} != input ${x.dtype}`);
  },
  geometry: (op, T, base) => ({ ...base([op.inputs[0]]), kind: 'RESHAPE', inputShape: [...T[op.inputs[0]].shape] }),
};
