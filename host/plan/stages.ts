// Stages: contiguous runs of ops that run as one unit (a fused stack of
// conv/depthwise/pool layers, a single FC/ADD/softmax, or a gateway-side copy),
// how each may be split, and the fragments a split produces.
import type { Graph } from '../model/ir.ts';
import {
  axisBoxes,
  boxVolume,
  fullBox,
  fuseBackward,
  gridBoxes,
  isSpatial,
  opSplits,
  outputView,
  runsOnGateway,
  type Box,
  type OpBox,
  type SplitMode,
} from './fragments.ts';

/** Ops [start, end) run as one stage. */
export interface Span {
  start: number;
  end: number;
  /** Gateway-side copy (RESHAPE, QUANTIZE, DEQUANTIZE): no device runs it. */
  gateway: boolean;
  /** Splits this span allows besides 'whole'. */
  splits: SplitMode[];
}

export function spanOps(s: Span): number[] {
  return Array.from({ length: s.end - s.start }, (_, i) => s.start + i);
}

const consumerCache = new WeakMap<Graph, number[][]>();

function consumers(g: Graph): number[][] {
  let c = consumerCache.get(g);
  if (!c) {
    c = g.tensors.map(() => []);
    g.ops.forEach((op, i) => op.inputs.forEach((t) => t >= 0 && c![t].push(i)));
    consumerCache.set(g, c);
  }
  return c;
}

/**
 * Whether op i+1 can run right after op i on the same device with no exchange:
 * it reads only op i's output, which nothing else reads and the graph does not
 * return.
 */
export function chains(g: Graph, i: number): boolean {
  const a = g.ops[i];
  const b = g.ops[i + 1];
  if (!b || runsOnGateway(g, i) || runsOnGateway(g, i + 1)) return false;
  const out = a.outputs[0];
  const activations = b.inputs.filter((t) => t >= 0 && !g.tensors[t].data);
  const users = consumers(g)[out];
  return activations.length === 1 && activations[0] === out && users.length === 1 && !g.outputs.includes(out);
}

/** One op splits as its descriptor says; a fused stack of spatial ops by rows or grid (its tiles carry halos, not channels). */
function splitsOf(g: Graph, start: number, end: number, maxFuse: number): SplitMode[] {
  const n = end - start;
  if (n === 1) return opSplits(g, start);
  return n <= maxFuse && Array.from({ length: n }, (_, k) => isSpatial(g, start + k)).every(Boolean) ? ['rows', 'grid'] : [];
}

/**
 * Every candidate stage: each gateway op alone, and each run of chained device
 * ops, however long unless `maxWhole` caps them (the `equal` baseline's one
 * op per stage). Runs longer than `maxFuse` (or mixing non-spatial ops) may
 * only run whole on one device.
 */
export function candidateSpans(g: Graph, maxFuse: number, maxWhole = Infinity): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i < g.ops.length; i++) {
    if (runsOnGateway(g, i)) {
      spans.push({ start: i, end: i + 1, gateway: true, splits: [] });
      continue;
    }
    for (let j = i + 1; j <= g.ops.length && j - i <= maxWhole; j++) {
      spans.push({ start: i, end: j, gateway: false, splits: splitsOf(g, i, j, maxFuse) });
      if (!chains(g, j - 1)) break;
    }
  }
  return spans;
}

/**
 * `spans` plus, from each op a capped chain stops short of, the whole rest
 * of its chain: a device may still run everything up to the next exchange
 * as one piece, as the uncapped baselines do.
 */
export function withChainTails(g: Graph, spans: readonly Span[]): Span[] {
  const have = new Set(spans.map((s) => `${s.start}:${s.end}`));
  const out = [...spans];
  for (const s of spans) {
    if (s.gateway || have.has(`${s.start}:tail`)) continue;
    have.add(`${s.start}:tail`);
    let end = s.start + 1;
    while (chains(g, end - 1)) end++;
    if (!have.has(`${s.start}:${end}`)) out.push({ start: s.start, end, gateway: false, splits: [] });
  }
  return out;
}

/** One fragment of a stage: its ops with boxes and tiles, and the devices (replicas) running it. */
export interface FragmentSpec {
  ops: OpBox[];
  devices: number[];
}

export interface StageChoice {
  span: Span;
  split: SplitMode;
  fragments: FragmentSpec[];
}

/** Output channels axis of a view: the last one. */
const lastAxis = (shape: readonly number[]) => shape.length - 1;

/**
 * Splits a span's output among device groups (one group per share; a group of
 * several devices runs the same fragment as replicas) and derives every op's
 * box and tiles. Parts left empty by rounding are dropped.
 */
export function buildStage(g: Graph, span: Span, split: SplitMode, groups: number[][], shares: readonly number[], grid?: [number, number]): StageChoice {
  const view = outputView(g, span.end - 1);
  let boxes: Box[];
  switch (split) {
    case 'rows':
      boxes = axisBoxes(view, 1, shares);
      break;
    case 'channels':
      boxes = axisBoxes(view, lastAxis(view), shares);
      break;
    case 'grid':
      boxes = gridBoxes(view, grid![0], grid![1]);
      break;
    case 'whole':
      boxes = [fullBox(view)];
      break;
  }
  const ops = spanOps(span);
  const fragments: FragmentSpec[] = [];
  boxes.forEach((box, i) => {
    if (boxVolume(box) > 0) fragments.push({ ops: fuseBackward(g, ops, box), devices: groups[i] });
  });
  return { span, split, fragments };
}

/** The stage of a gateway-side op: nothing to split, no device. */
export function gatewayStage(span: Span): StageChoice {
  return { span, split: 'whole', fragments: [] };
}
