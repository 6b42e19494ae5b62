// MAX_POOL_2D and AVERAGE_POOL_2D: each output channel reads a window of the
// same input channel; no weights.
import type { PoolGeometry } from '../../model/geometry.ts';
import type { PoolParams } from '../../model/op-params.ts';
import { OPCODE, W } from '../abi.generated.ts';
import type { OpDescriptor } from './descriptor.ts';
import { packWindow, windowed, windowTile } from './window.ts';

export const pool2d: OpDescriptor<PoolGeometry, PoolParams> = {
  ...windowed,
  perOutput: (o) => o.filterH * o.filterW,
  perOutputOfRecord: (r) => r(W.KH) * r(W.KW),
  inputTile: (o, _k, box) => windowTile(o, o.filterH, o.filterW, 1, 1, box, [box.start[3], box.end[3]]),
  weightsPerChannel: () => 0,
  opcode: (kind) => OPCODE[kind],
  pack(rec, p) {
    packWindow(rec, p, p.filterH, p.filterW, 1, 1, 1);
    rec.set(W.ACT_MIN, p.actMin);
    rec.set(W.ACT_MAX, p.actMax);
  },
};
