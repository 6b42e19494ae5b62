// DEPTHWISE_CONV_2D: output channel c reads a kh x kw window of input channel
// c / depthMultiplier only.
import type { ConvGeometry } from '../../model/geometry.ts';
import type { ConvParams } from '../../model/op-params.ts';
import { OPCODE, W } from '../abi.generated.ts';
import { bytesOf, channelConstants, checkRange } from '../record.ts';
import { packConvWords } from './conv-2d.ts';
import type { OpDescriptor } from './descriptor.ts';
import { windowed, windowTile } from './window.ts';

export const depthwiseConv2d: OpDescriptor<ConvGeometry, ConvParams> = {
  ...windowed,
  perOutput: (o) => o.filterShape[1] * o.filterShape[2],
  perOutputOfRecord: (r) => r(W.KH) * r(W.KW),
  inputTile: (o, _k, box) => {
    const dm = o.depthMultiplier;
    return windowTile(o, o.filterShape[1], o.filterShape[2], o.dilationH, o.dilationW, box, [Math.floor(box.start[3] / dm), Math.floor((box.end[3] - 1) / dm) + 1]);
  },
  weightsPerChannel: (o) => o.filterShape[1] * o.filterShape[2],
  slice: (_o, box) => ({ channels: [box.start[3], box.end[3]] }),
  opcode: () => OPCODE.DEPTHWISE_CONV_2D,
  pack(rec, p, slice, label) {
    const [, kh, kw] = p.filterShape;
    const outC = p.outputShape[3];
    const [lo, hi] = checkRange(`${label}: channel slice`, slice.channels ?? [0, outC], outC);
    packConvWords(rec, p);
    // Filter [1, kh, kw, outC]: keep the columns of the slice, [kh][kw][hi - lo].
    const n = hi - lo;
    const w = new Int8Array(kh * kw * n);
    for (let t = 0; t < kh * kw; t++) w.set(p.filter.subarray(t * outC + lo, t * outC + hi), t * n);
    rec.constant(W.WEIGHTS, bytesOf(w));
    channelConstants(rec, p, lo, hi);
  },
};
