// ADD in the graph: two int8 tensors of up to 4 dimensions, broadcast numpy-style.
import type { AddGeometry } from '../geometry.ts';
import { broadcastShape, type AddOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const addShape: OpShape<AddOp, AddGeometry> = {
  check(_op, c) {
    const [a, b] = c.int8Pair();
    if (a.shape.length > 4 || b.shape.length > 4) c.fail('inputs', 'ADD supports up to 4 dimensions');
    const s = broadcastShape(a.shape, b.shape);
    if (!s) c.fail('inputs[1].shape', `[${b.shape}] does not broadcast with [${a.shape}]`);
    const y = c.output();
    c.dtype(y, 'int8', 'outputs[0].dtype');
    c.quant(y, 'outputs[0].quant');
    c.outputShape(y, s!);
  },
  geometry: (op, T, base) => ({
    ...base([op.inputs[0], op.inputs[1]]),
    kind: 'ADD',
    input1Shape: [...T[op.inputs[0]].shape],
    input2Shape: [...T[op.inputs[1]].shape],
  }),
};
