// ADD with broadcasting: an input dimension of size 1 is read whole, the
// others follow the output box.
import type { AddGeometry } from '../../model/geometry.ts';
import type { AddParams } from '../../model/op-params.ts';
import { OPCODE, W } from '../abi.generated.ts';
import { shape4 } from '../record.ts';
import type { OpDescriptor } from './descriptor.ts';

export const add: OpDescriptor<AddGeometry, AddParams> = {
  runsOnDevice: () => true,
  spatial: false,
  splits: (o) => (o.outputShape.length === 4 ? ['rows', 'channels'] : ['channels']),
  outputView: (o) => [...o.outputShape],
  inputView: (o, k) => [...(k === 0 ? o.input1Shape : o.input2Shape)],
  perOutput: () => 1,
  perOutputOfRecord: () => 1,
  inputTile: (o, k, box) => {
    const shape = k === 0 ? o.input1Shape : o.input2Shape;
    const off = box.start.length - shape.length;
    return { start: shape.map((d, i) => (d === 1 ? 0 : box.start[i + off])), end: shape.map((d, i) => (d === 1 ? 1 : box.end[i + off])) };
  },
  weightsPerChannel: () => 0,
  opcode: () => OPCODE.ADD,
  pack(rec, p) {
    rec.setShape(W.IN2_SHAPE, shape4(p.input2Shape));
    rec.set(W.IN_ZP, p.input1ZeroPoint);
    rec.set(W.IN2_ZP, p.input2ZeroPoint);
    rec.set(W.OUT_ZP, p.outputZeroPoint);
    rec.set(W.LEFT_SHIFT, p.leftShift);
    rec.set(W.IN1_MULT, p.input1Multiplier);
    rec.set(W.IN1_SHIFT, p.input1Shift);
    rec.set(W.IN2_MULT, p.input2Multiplier);
    rec.set(W.IN2_SHIFT, p.input2Shift);
    rec.set(W.OUT_MULT, p.outputMultiplier);
    rec.set(W.OUT_SHIFT, p.outputShift);
    rec.set(W.ACT_MIN, p.actMin);
    rec.set(W.ACT_MAX, p.actMax);
  },
};
