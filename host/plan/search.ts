// Choosing one option per stage over the cut points: dynamic programming over
// the op sequence, with the memory budgets handled by Lagrangian relaxation
// (a price per byte on each device, raised where a device overflows and
// lowered where it has room), then a local search that swaps single stages'
// options while every device stays within budget.
import type { Graph } from '../model/ir.ts';
import { fragmentWork, scheduleStage, stageObjective, type Objective, type StageTimes, type Work } from './cost.ts';
import type { OpBox } from './fragments.ts';
import { fragmentActivationBytes, fragmentParamBytes } from './layout.ts';
import { usableBytes, type DeviceProfile } from './profiles.ts';
import type { Span, StageChoice } from './stages.ts';

/** A stage choice with its cost and what it asks of each device's memory. */
export interface Option {
  choice: StageChoice;
  /** The stage's share of the objective. */
  j: number;
  times: StageTimes;
  /** [device index, resident parameter bytes]. */
  params: [number, number][];
  /** [device index, activation high-water]. */
  act: [number, number][];
  /** `params` as parallel arrays, for the pricing loop (the search's hot spot). */
  paramDevices: Int32Array;
  paramBytes: Float64Array;
}

/** Device-independent figures of a fragment, cached by its ops array (shared by options that differ only in devices). */
const figures = new WeakMap<readonly OpBox[], { work: Work; params: number; act: number }>();

function fragmentFigures(g: Graph, ops: readonly OpBox[]) {
  let f = figures.get(ops);
  if (!f) {
    f = { work: fragmentWork(g, ops), params: fragmentParamBytes(g, ops), act: fragmentActivationBytes(g, ops) };
    figures.set(ops, f);
  }
  return f;
}

export function evaluateOption(g: Graph, devices: readonly DeviceProfile[], o: Objective, choice: StageChoice): Option {
  const figs = choice.fragments.map((f) => fragmentFigures(g, f.ops));
  const times = scheduleStage(devices, choice.fragments.map((f, i) => ({ work: figs[i].work, devices: f.devices })), 0);
  const params = new Map<number, number>();
  const act = new Map<number, number>();
  choice.fragments.forEach((f, i) => {
    for (const d of f.devices) {
      params.set(d, (params.get(d) ?? 0) + figs[i].params);
      act.set(d, Math.max(act.get(d) ?? 0, figs[i].act));
    }
  });
  return {
    choice,
    j: stageObjective(o, times),
    times,
    params: [...params],
    act: [...act],
    paramDevices: Int32Array.from(params.keys()),
    paramBytes: Float64Array.from(params.values()),
  };
}

/** Whether an option fits each of its devices on its own (nothing else loaded). */
export function fitsAlone(devices: readonly DeviceProfile[], opt: Option): boolean {
  const act = new Map(opt.act);
  return opt.params.every(([d, p]) => p + (act.get(d) ?? 0) <= usableBytes(devices[d]));
}

/** Bytes each device is over its budget (negative: room left). */
export function overflow(devices: readonly DeviceProfile[], chosen: readonly Option[]): number[] {
  const params = devices.map(() => 0);
  const act = devices.map(() => 0);
  for (const opt of chosen) {
    for (const [d, p] of opt.params) params[d] += p;
    for (const [d, a] of opt.act) act[d] = Math.max(act[d], a);
  }
  return devices.map((d, i) => params[i] + act[i] - usableBytes(d));
}

const total = (chosen: readonly Option[]) => chosen.reduce((s, o) => s + o.j, 0);

/** Cheapest cover of ops [0, n) by spans, one option each, under a per-option price. */
function cheapestCover(n: number, spans: readonly Span[], options: readonly Option[][], price: (o: Option) => number): Option[] | null {
  const best = new Array<number>(n + 1).fill(Infinity);
  const via = new Array<Option | null>(n + 1).fill(null);
  best[0] = 0;
  const byStart = spans.map((s, i) => [s, i] as const).sort((a, b) => a[0].start - b[0].start);
  for (const [s, i] of byStart) {
    if (best[s.start] === Infinity) continue;
    for (const opt of options[i]) {
      const c = best[s.start] + price(opt);
      if (c < best[s.end]) {
        best[s.end] = c;
        via[s.end] = opt;
      }
    }
  }
  if (best[n] === Infinity) return null;
  const chosen: Option[] = [];
  for (let at = n; at > 0; ) {
    const o = via[at]!;
    chosen.push(o);
    at = o.choice.span.start;
  }
  return chosen.reverse();
}

export interface SearchResult {
  /** The best plan found within every budget, or null. */
  feasible: Option[] | null;
  /** The plan with the least total overflow, to explain an infeasible request. */
  closest: Option[] | null;
}

const sumOver = (over: readonly number[]) => over.reduce((s, v) => s + Math.max(0, v), 0);

/** The largest fraction of a device's budget an option's parameters take. */
function largestShare(o: Option, usable: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < o.paramDevices.length; i++) m = Math.max(m, o.paramBytes[i] / usable[o.paramDevices[i]]);
  return m;
}

/**
 * Minimizes Σ option objective over covers of the ops subject to every
 * device's budget. Options that do not fit their devices alone are dropped
 * first. `seeds` are known plans to start from (e.g. the best
 * vertical-only one); `iterations` bounds the price updates.
 */
export function searchStages(
  n: number,
  devices: readonly DeviceProfile[],
  spans: readonly Span[],
  allOptions: readonly Option[][],
  seeds: readonly Option[][] = [],
  iterations = 30,
): SearchResult {
  const options = allOptions.map((opts) => opts.filter((o) => fitsAlone(devices, o)));
  const usable = devices.map(usableBytes);
  let feasible: Option[] | null = null;
  let closest: Option[] | null = null;
  let closestOver = Infinity;
  /** Records a choice; true when it is the closest infeasible one so far. */
  const consider = (chosen: Option[] | null): boolean => {
    if (!chosen) return false;
    const excess = sumOver(overflow(devices, chosen));
    if (excess === 0) {
      if (!feasible || total(chosen) < total(feasible)) feasible = chosen;
    } else if (excess < closestOver) {
      closestOver = excess;
      closest = chosen;
      return true;
    }
    return false;
  };

  for (const seed of seeds) consider(seed);
  const free = cheapestCover(n, spans, options, (o) => o.j);
  if (!free) return { feasible: null, closest: cheapestCover(n, spans, allOptions, (o) => o.j) };
  if (consider(free)) consider(repair(devices, spans, options, free));
  // Prices are in units of the unconstrained objective per budget-fraction.
  const scale = Math.max(total(free), 1e-9);
  const mu = devices.map(() => 0);
  let step = 1;
  for (let it = 0; it < iterations && (!feasible || it < iterations / 2); it++) {
    const perByte = mu.map((m, d) => (scale * m) / usable[d]);
    const priced = (o: Option) => {
      let c = o.j;
      for (let i = 0; i < o.paramDevices.length; i++) c += perByte[o.paramDevices[i]] * o.paramBytes[i];
      return c;
    };
    const chosen = cheapestCover(n, spans, options, priced);
    // Repair only attempts that came closer than any before: repairs are the costly part.
    if (consider(chosen)) consider(repair(devices, spans, options, chosen!));
    const over = overflow(devices, chosen!);
    const infeasible = sumOver(over) > 0;
    over.forEach((v, d) => (mu[d] = Math.max(0, mu[d] + (step * v) / usable[d])));
    step *= infeasible ? 1.5 : 0.7;
  }
  // Last resort: spread parameters as thinly as the options allow. A
  // device's share of its budget summed over stages is at most the sum of
  // each stage's largest share, an additive bound the cover can minimize
  // (ties: the faster plan); then repair what activations still overflow.
  if (!feasible) {
    const spread = cheapestCover(n, spans, options, (o) => (1e-6 * o.j) / scale + largestShare(o, usable));
    if (spread) {
      consider(spread);
      if (!feasible) consider(repair(devices, spans, options, spread));
    }
  }
  if (feasible) feasible = improveLocally(devices, spans, options, feasible);
  return { feasible, closest };
}

/**
 * Per-device loads of a choice, for evaluating single-stage swaps in O(devices
 * touched): parameter sums and the two largest activation needs per device.
 */
class Loads {
  private readonly params: Float64Array;
  private readonly act1: Float64Array;
  private readonly act1Stage: Int32Array;
  private readonly act2: Float64Array;
  private readonly usable: number[];
  excess = 0;

  constructor(
    devices: readonly DeviceProfile[],
    private readonly chosen: readonly Option[],
  ) {
    const n = devices.length;
    this.usable = devices.map(usableBytes);
    this.params = new Float64Array(n);
    this.act1 = new Float64Array(n);
    this.act1Stage = new Int32Array(n).fill(-1);
    this.act2 = new Float64Array(n);
    chosen.forEach((o, k) => {
      for (const [d, p] of o.params) this.params[d] += p;
      for (const [d, a] of o.act) {
        if (a > this.act1[d]) {
          this.act2[d] = this.act1[d];
          this.act1[d] = a;
          this.act1Stage[d] = k;
        } else if (a > this.act2[d]) this.act2[d] = a;
      }
    });
    for (let d = 0; d < n; d++) this.excess += Math.max(0, this.params[d] + this.act1[d] - this.usable[d]);
  }

  /** Total overflow if stage k took option c instead. */
  excessIfSwapped(k: number, c: Option): number {
    const old = this.chosen[k];
    const touched = new Set<number>();
    for (const [d] of old.params) touched.add(d);
    for (const [d] of c.params) touched.add(d);
    for (const [d] of old.act) touched.add(d);
    for (const [d] of c.act) touched.add(d);
    let e = this.excess;
    for (const d of touched) {
      let p = this.params[d];
      for (const [dd, v] of old.params) if (dd === d) p -= v;
      for (const [dd, v] of c.params) if (dd === d) p += v;
      let a = this.act1Stage[d] === k ? this.act2[d] : this.act1[d];
      for (const [dd, v] of c.act) if (dd === d) a = Math.max(a, v);
      e += Math.max(0, p + a - this.usable[d]) - Math.max(0, this.params[d] + this.act1[d] - this.usable[d]);
    }
    return Math.max(0, e);
  }
}

/**
 * Greedy repair of an over-budget choice: repeatedly make the single-stage
 * swap that most reduces the total overflow (ties: the smaller objective
 * increase), until nothing overflows or no swap helps.
 */
function repair(devices: readonly DeviceProfile[], spans: readonly Span[], options: readonly Option[][], start: Option[]): Option[] | null {
  const index = new Map(spans.map((s, i) => [s, i]));
  const chosen = [...start];
  let loads = new Loads(devices, chosen);
  for (let step = 0; loads.excess > 1e-9 && step < 4 * chosen.length; step++) {
    let best: { k: number; o: Option; excess: number; dj: number } | null = null;
    for (let k = 0; k < chosen.length; k++) {
      for (const c of options[index.get(chosen[k].choice.span)!]) {
        if (c === chosen[k]) continue;
        const e = loads.excessIfSwapped(k, c);
        const dj = c.j - chosen[k].j;
        if (e < loads.excess - 1e-9 && (!best || e < best.excess || (e === best.excess && dj < best.dj))) best = { k, o: c, excess: e, dj };
      }
    }
    if (!best) return null;
    chosen[best.k] = best.o;
    loads = new Loads(devices, chosen);
  }
  return loads.excess <= 1e-9 ? chosen : null;
}

/**
 * Local search with the cut points fixed: replace one stage's option by a
 * cheaper one of the same span while all devices stay within budget, until
 * no single swap helps.
 */
function improveLocally(devices: readonly DeviceProfile[], spans: readonly Span[], options: readonly Option[][], start: Option[]): Option[] {
  const index = new Map(spans.map((s, i) => [s, i]));
  const chosen = [...start];
  for (let pass = 0, improved = true; improved && pass < 10; pass++) {
    improved = false;
    for (let k = 0; k < chosen.length; k++) {
      const loads = new Loads(devices, chosen);
      const cands = options[index.get(chosen[k].choice.span)!].filter((o) => o.j < chosen[k].j).sort((a, b) => a.j - b.j);
      const fit = cands.find((c) => loads.excessIfSwapped(k, c) <= 1e-9);
      if (fit) {
        chosen[k] = fit;
        improved = true;
      }
    }
  }
  return chosen;
}
