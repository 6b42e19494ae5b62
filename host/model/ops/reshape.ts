// RESHAPE in the graph: the same values and dtype in another shape.
import { numElements, type ReshapeOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const reshapeShape: OpShape<ReshapeOp> = {
  check(_op, c) {
    const x = c.input(0, 'inputs[0]');
    const y = c.output();
    if (numElements(x.shape) !== numElements(y.shape))
      c.fail('outputs[0].shape', `[${y.shape}] holds ${numElements(y.shape)} values, input [${x.shape}] has ${numElements(x.shape)}`);
    if (x.dtype !== y.dtype) c.fail('outputs[0].dtype', `${y.dtype} != input ${x.dtype}`);
  },
};
