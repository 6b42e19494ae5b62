// The options a stage may take: which devices run it and how its output is
// shared among them. Strategies differ in which device subsets they offer;
// the share rules are common, so the optimum and the heuristic search the
// same kind of space.
import type { Graph } from '../model/ir.ts';
import { fragmentWork, timing, type Objective, type Work } from './cost.ts';
import { fullBox, fuseBackward, gridShape, outputView, type OpBox, type SplitMode } from './fragments.ts';
import { usableBytes, type DeviceProfile } from './profiles.ts';
import { evaluateOption, type Option } from './search.ts';
import { buildStage, gatewayStage, spanOps, type Span } from './stages.ts';

const wholeWork = new WeakMap<Span, Work>();

/** Seconds device d needs for the whole span (tile in, compute, box out): its shares scale with the inverse. */
export function wholeSpanSeconds(g: Graph, span: Span, d: DeviceProfile): number {
  let w = wholeWork.get(span);
  if (!w) {
    w = fragmentWork(g, fuseBackward(g, spanOps(span), fullBox(outputView(g, span.end - 1))));
    wholeWork.set(span, w);
  }
  const t = timing(d, w);
  return t.sendS + t.computeS + t.returnS;
}

/**
 * How shares are sized: by speed (inverse whole-span time), by free memory
 * (for weight-heavy channel splits), or equal (the tiles of a grid).
 */
export type ShareRule = 'speed' | 'memory' | 'equal';

export function shares(g: Graph, span: Span, devices: readonly DeviceProfile[], subset: readonly number[], rule: ShareRule): number[] {
  return subset.map((d) => (rule === 'speed' ? 1 / wholeSpanSeconds(g, span, devices[d]) : rule === 'memory' ? usableBytes(devices[d]) : 1));
}

/** Device orders worth taking prefixes of: fastest for this span first, most memory first. */
export function deviceOrders(g: Graph, span: Span, devices: readonly DeviceProfile[]): number[][] {
  const idx = devices.map((_, i) => i);
  const secs = devices.map((d) => wholeSpanSeconds(g, span, d));
  return [
    [...idx].sort((a, b) => secs[a] - secs[b] || a - b),
    [...idx].sort((a, b) => usableBytes(devices[b]) - usableBytes(devices[a]) || secs[a] - secs[b]),
  ];
}

/**
 * Prefix sizes tried: every size up to 16 devices (so a set's first k
 * devices offer the splits k devices alone would); beyond, 1..4 then
 * doubling, always n.
 */
export function prefixSizes(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k = n <= 16 || k < 4 ? k + 1 : k * 2) ks.push(k);
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

/** How many parts a split can make of an output of this shape. */
function splitUnits(view: readonly number[], split: SplitMode): number {
  if (split === 'rows') return view[1];
  if (split === 'grid') return view[1] * view[2];
  if (split === 'channels') return view[view.length - 1];
  return 1;
}

const MAX_GRID_TILES = 16;

const SPLIT_RULES: Partial<Record<SplitMode, ShareRule[]>> = { rows: ['speed'], channels: ['speed', 'memory'], grid: ['equal'] };

/**
 * Evaluated options of one span over the given device subsets: each subset
 * of one device may run the span whole; larger subsets split it by rows
 * (speed shares), channels (speed or memory shares) or a grid of equal tiles
 * where the span allows.
 */
export function spanOptions(g: Graph, devices: readonly DeviceProfile[], o: Objective, span: Span, subsets: readonly (readonly number[])[]): Option[] {
  if (span.gateway) return [evaluateOption(g, devices, o, gatewayStage(span))];
  const seen = new Set<string>();
  const out: Option[] = [];
  // The whole span on one device has one geometry whichever the device: build it once.
  let whole: OpBox[] | undefined;
  const view = outputView(g, span.end - 1);
  for (const subset of subsets) {
    if (subset.length === 1) {
      if (seen.has(`whole/${subset[0]}`)) continue;
      seen.add(`whole/${subset[0]}`);
      whole ??= buildStage(g, span, 'whole', [[0]], [1]).fragments[0].ops;
      out.push(evaluateOption(g, devices, o, { span, split: 'whole', fragments: [{ ops: whole, devices: [subset[0]] }] }));
      continue;
    }
    const tries = span.splits.flatMap((s) => (SPLIT_RULES[s] ?? []).map((r): [SplitMode, ShareRule] => [s, r]));
    for (const [split, rule] of tries) {
      // More parts than units along the split leaves devices idle: a smaller subset covers it.
      if (subset.length > splitUnits(view, split)) continue;
      // Grids of many tiles pay a halo per tile edge: past 16 tiles rows or channels do better.
      if (split === 'grid' && subset.length > MAX_GRID_TILES) continue;
      const key = `${split}/${rule}/${[...subset].sort((a, b) => a - b).join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const sh = shares(g, span, devices, subset, rule);
      const choice = buildStage(g, span, split, subset.map((d) => [d]), sh, gridShape(subset.length));
      out.push(evaluateOption(g, devices, o, choice));
    }
  }
  return out;
}
