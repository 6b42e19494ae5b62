// FULLY_CONNECTED: boxes live in its [batches, units] view, tiles in
// [batches, depth]; a fragment may sum a range of the input depth (the
// partial sums then meet in an FC_REDUCE call).
import type { FullyConnectedGeometry } from '../../model/geometry.ts';
import type { FullyConnectedParams } from '../../model/op-params.ts';
import { C, OPCODE, W } from '../abi.generated.ts';
import { bytesOf, channelConstants, checkRange, interleaveBlocks } from '../record.ts';
import type { OpDescriptor } from './descriptor.ts';

export const fullyConnected: OpDescriptor<FullyConnectedGeometry, FullyConnectedParams> = {
  runsOnDevice: () => true,
  spatial: false,
  // By units (output neurons); a split of the summed depth exists in the kernels but no plan uses it.
  splits: () => ['channels'],
  alignLeft: true,
  outputView: (o) => [o.batches, o.units],
  inputView: (o) => [o.batches, o.depth],
  perOutput: (o, depth) => (depth ? depth[1] - depth[0] : o.depth),
  // A reduce of partial sums adds `parts` values per output.
  perOutputOfRecord: (_r, c) => (c(C.MODE) === 0 ? c(C.DEPTH_END) - c(C.DEPTH_START) : c(C.PARTS)),
  inputTile: (o, _k, box, depth) => {
    const [d0, d1] = depth ?? [0, o.depth];
    return { start: [box.start[0], d0], end: [box.end[0], d1] };
  },
  weightsPerChannel: (o) => o.depth,
  slice: (o, box, depth) => ({ channels: [box.start[1], box.end[1]], depth: depth ?? [0, o.depth] }),
  opcode: () => OPCODE.FULLY_CONNECTED,
  depth: (o) => o.depth,
  outputType: (_p, partialSums) => (partialSums ? 'int32' : 'int8'),
  pack(rec, p, slice, label) {
    if (p.filterZeroPoint !== 0) throw new RangeError(`${label}: weight zero point ${p.filterZeroPoint}; the kernels need 0 (as TFLM asserts)`);
    const [lo, hi] = checkRange(`${label}: unit slice`, slice.channels ?? [0, p.units], p.units);
    const [d0, d1] = checkRange(`${label}: depth slice`, slice.depth ?? [0, p.depth], p.depth);
    const nd = d1 - d0;
    const w = new Int8Array((hi - lo) * nd);
    for (let u = lo; u < hi; u++) w.set(p.filter.subarray(u * p.depth + d0, u * p.depth + d1), (u - lo) * nd);
    rec.set(W.IN_ZP, p.inputZeroPoint);
    rec.set(W.OUT_ZP, p.outputZeroPoint);
    rec.set(W.ACT_MIN, p.actMin);
    rec.set(W.ACT_MAX, p.actMax);
    rec.set(W.DEPTH_LO, d0);
    rec.set(W.DEPTH_HI, d1);
    rec.constant(W.WEIGHTS, bytesOf(nd % 4 === 0 ? interleaveBlocks(w, hi - lo, nd) : w));
    channelConstants(rec, p, lo, hi);
  },
};
