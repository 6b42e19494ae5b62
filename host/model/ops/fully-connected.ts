// FULLY_CONNECTED in the graph: the input read as [batches, depth] against a
// constant [units, depth] filter; the output [batches, units] (keepNumDims:
// the input's leading dimensions, then units).
import type { FullyConnectedGeometry } from '../geometry.ts';
import { numElements, type FullyConnectedOp } from '../ir.ts';
import type { OpShape } from './check.ts';

export const fullyConnectedShape: OpShape<FullyConnectedOp, FullyConnectedGeometry> = {
  check(op, c) {
    const [x, w] = c.int8Pair();
    c.rank(w, 2, 'inputs[1].shape');
    if (!w.data) c.fail('inputs[1]', 'weights must be constant');
    const [units, depth] = w.shape;
    const total = numElements(x.shape);
    if (depth === 0 || total % depth !== 0) c.fail('inputs[1].shape', `input of ${total} values is not a multiple of depth ${depth}`);
    const nScales = w.quant!.scale.length;
    if (nScales !== 1 && nScales !== units) c.fail('inputs[1].quant', `${nScales} scales for ${units} units`);
    const b = c.optionalInput(2, 'inputs[2]');
    if (b) {
      c.dtype(b, 'int32', 'inputs[2].dtype');
      if (numElements(b.shape) !== units) c.fail('inputs[2].shape', `bias has ${numElements(b.shape)} values for ${units} units`);
    }
    const y = c.output();
    c.dtype(y, 'int8', 'outputs[0].dtype');
    c.quant(y, 'outputs[0].quant');
    const batches = total / depth;
    const expected = op.keepNumDims ? [...x.shape.slice(0, -1), units] : [batches, units];
    if (numElements(y.shape) !== batches * units || y.shape[y.shape.length - 1] !== units)
      c.fail('outputs[0].shape', `expected [${expected}], got [${y.shape}]`);
  },
  geometry(op, T, base) {
    const x = T[op.inputs[0]];
    const [units, depth] = T[op.inputs[1]].shape;
    return { ...base([op.inputs[0]]), kind: 'FULLY_CONNECTED', inputShape: [...x.shape], batches: numElements(x.shape) / depth, depth, units };
  },
};
