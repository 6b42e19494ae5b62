// QUANTIZE: from float32 it is the model's input edge, done by the gateway;
// int8 -> int8 is a requantization that a device runs (kernel REQUANTIZE),
// element by element.
import type { QuantizeGeometry } from '../../model/geometry.ts';
import type { QuantizeFloatParams, RequantizeParams } from '../../model/op-params.ts';
import { OPCODE, W } from '../abi.generated.ts';
import { elementwise, type OpDescriptor } from './descriptor.ts';

export const quantize: OpDescriptor<QuantizeGeometry, QuantizeFloatParams | RequantizeParams> = {
  ...elementwise,
  runsOnDevice: (o) => o.from === 'int8',
  opcode: () => OPCODE.REQUANTIZE,
  pack(rec, p, _slice, label) {
    if (p.from !== 'int8') throw new RangeError(`${label}: a float32 QUANTIZE runs on the gateway`);
    rec.set(W.IN_ZP, p.inputZeroPoint);
    rec.set(W.OUT_ZP, p.outputZeroPoint);
    rec.set(W.OUT_MULT, p.multiplier);
    rec.set(W.OUT_SHIFT, p.shift);
    rec.set(W.ACT_MIN, -128);
    rec.set(W.ACT_MAX, 127);
  },
};
