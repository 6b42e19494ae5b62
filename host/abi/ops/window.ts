// The sliding window shared by conv, depthwise and pools: the descriptor
// properties they have in common, which input rows and columns an output box
// reads, and the record words that describe it.
import type { Box } from '../../model/oracle/tile.ts';
import { W } from '../abi.generated.ts';
import type { RecordWriter } from '../record.ts';
import type { SplitMode } from './descriptor.ts';

interface Window {
  inputShape: number[];
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

/**
 * What conv, depthwise and pools share as descriptors: a device runs them,
 * boxes and tiles are NHWC, and one alone splits any way (output rows, output
 * channels, or a grid of rows x columns).
 */
export const windowed = {
  runsOnDevice: () => true,
  spatial: true,
  splits: (): SplitMode[] => ['rows', 'channels', 'grid'],
  outputView: (o: Window & { outputShape: number[] }) => [...o.outputShape],
  inputView: (o: Window) => [...o.inputShape],
} as const;

/** Input range [lo, hi) that outputs [a, b) read along one axis, clamped to [0, size). */
export function windowRange(a: number, b: number, stride: number, k: number, dilation: number, pad: number, size: number): [number, number] {
  if (b <= a) return [0, 0];
  // Declared outputs may exceed the padding formula (TFLM loops over them), so
  // a window can lie wholly outside the input: it then reads nothing.
  const lo = Math.min(size, Math.max(0, a * stride - pad));
  const hi = Math.max(lo, Math.min(size, (b - 1) * stride - pad + (k - 1) * dilation + 1));
  return [lo, hi];
}

/** The input tile of a windowed op (conv, depthwise, pool) for an NHWC output box, with channel range [c0, c1). */
export function windowTile(
  o: Window,
  kh: number,
  kw: number,
  dh: number,
  dw: number,
  box: Box,
  channels: [number, number],
): Box {
  const [, h, w] = o.inputShape;
  const [y0, y1] = windowRange(box.start[1], box.end[1], o.strideH, kh, dh, o.padTop, h);
  const [x0, x1] = windowRange(box.start[2], box.end[2], o.strideW, kw, dw, o.padLeft, w);
  return { start: [box.start[0], y0, x0, channels[0]], end: [box.end[0], y1, x1, channels[1]] };
}

/** Record words of a window: kernel size, strides, dilations, padding offsets, depth multiplier. */
export function packWindow(rec: RecordWriter, o: Window, kh: number, kw: number, dh: number, dw: number, depthMultiplier: number): void {
  rec.set(W.KH, kh);
  rec.set(W.KW, kw);
  rec.set(W.STRIDE_H, o.strideH);
  rec.set(W.STRIDE_W, o.strideW);
  rec.set(W.DIL_H, dh);
  rec.set(W.DIL_W, dw);
  rec.set(W.PAD_TOP, o.padTop);
  rec.set(W.PAD_LEFT, o.padLeft);
  rec.set(W.DEPTH_MULT, depthMultiplier);
}
