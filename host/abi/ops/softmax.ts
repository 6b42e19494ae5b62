// SOFTMAX over the last axis: a box must hold whole rows; each output reads
// its own input element (the row's maximum and sum come from the same box).
import type { SoftmaxGeometry } from '../../model/geometry.ts';
import type { SoftmaxParams } from '../../model/op-params.ts';
import { OPCODE, W } from '../abi.generated.ts';
import { elementwise, type OpDescriptor } from './descriptor.ts';

export const softmax: OpDescriptor<SoftmaxGeometry, SoftmaxParams> = {
  ...elementwise,
  runsOnDevice: () => true,
  wholeLastAxis: true,
  opcode: () => OPCODE.SOFTMAX,
  outputType: (p) => p.outputType,
  pack(rec, p) {
    rec.set(W.SM_MULT, p.inputMultiplier);
    rec.set(W.SM_LSHIFT, p.inputLeftShift);
    rec.set(W.SM_DIFF_MIN, p.diffMin);
    rec.set(W.OUT_BITS, p.outputType === 'int8' ? 8 : 16);
  },
};
