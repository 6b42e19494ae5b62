// CONV_2D: every output channel reads a kh x kw window over all input channels.
import type { ConvGeometry } from '../../model/geometry.ts';
import type { ConvParams } from '../../model/op-params.ts';
import { OPCODE, W } from '../abi.generated.ts';
import { bytesOf, channelConstants, checkRange, interleaveBlocks, type RecordWriter } from '../record.ts';
import type { OpDescriptor } from './descriptor.ts';
import { packWindow, windowed, windowTile } from './window.ts';

/** Record words shared by conv and depthwise: window, zero points, clamp. */
export function packConvWords(rec: RecordWriter, p: ConvParams): void {
  packWindow(rec, p, p.filterShape[1], p.filterShape[2], p.dilationH, p.dilationW, p.depthMultiplier);
  rec.set(W.IN_ZP, p.inputZeroPoint);
  rec.set(W.OUT_ZP, p.outputZeroPoint);
  rec.set(W.ACT_MIN, p.actMin);
  rec.set(W.ACT_MAX, p.actMax);
}

export const conv2d: OpDescriptor<ConvGeometry, ConvParams> = {
  ...windowed,
  perOutput: (o) => o.filterShape[1] * o.filterShape[2] * o.filterShape[3],
  perOutputOfRecord: (r) => r(W.KH) * r(W.KW) * r(W.IN_SHAPE + 3),
  inputTile: (o, _k, box) => windowTile(o, o.filterShape[1], o.filterShape[2], o.dilationH, o.dilationW, box, [0, o.inputShape[3]]),
  weightsPerChannel: (o) => o.filterShape[1] * o.filterShape[2] * o.filterShape[3],
  slice: (_o, box) => ({ channels: [box.start[3], box.end[3]] }),
  opcode: () => OPCODE.CONV_2D,
  pack(rec, p, slice, label) {
    const [, kh, kw, fc] = p.filterShape;
    const [lo, hi] = checkRange(`${label}: channel slice`, slice.channels ?? [0, p.outputShape[3]], p.outputShape[3]);
    packConvWords(rec, p);
    const taps = kh * kw * fc;
    const w = p.filter.subarray(lo * taps, hi * taps);
    rec.constant(W.WEIGHTS, bytesOf(fc % 4 === 0 ? interleaveBlocks(w, hi - lo, taps) : w));
    channelConstants(rec, p, lo, hi);
  },
};
