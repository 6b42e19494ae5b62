// microsplit, ours (after DISNET's micro-split): vertical cuts and, per stage,
// a horizontal split (rows of a fused conv/pool stack, output channels, FC
// neurons) over a prefix of the devices ordered by speed or by memory, sized
// by speed or memory; chosen jointly by dynamic programming over the cut
// points with Lagrangian prices on the budgets and a local search.
//
// The search runs once per rung of a ladder: the fastest k devices, for k up
// to all of them. Each rung's plan is scheduled in dataflow, and the plan kept
// is the one on the fewest devices within FEWER_DEVICES_TOLERANCE of the best
// (more devices that do not pay in time are left idle). The rungs also make
// feasibility monotone: a plan that fits k devices is a rung of any larger set.
// When no rung fits, the search runs on copies of `inspect`'s reference device
// with the set's smallest budget, the plan `inspect --budget` counted with.
import { assemblePlan, DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE, infeasibleError, predictStages, type PlanRequest } from '../assemble.ts';
import { objectiveFor, scheduleObjective } from '../cost.ts';
import { modelParamBytes } from '../layout.ts';
import { deviceOrders, prefixSizes, spanOptions } from '../options.ts';
import { referenceDevice, usableBytes, type DeviceProfile } from '../profiles.ts';
import { evaluateOption, searchStages, type Option, type SearchResult } from '../search.ts';
import { candidateSpans, withChainTails, type Span } from '../stages.ts';
import type { Strategy } from './types.ts';

const ALL_SINGLES_UP_TO = 16;
const SINGLES_PER_ORDER = 8;
/** More devices must cut the predicted objective by more than this fraction to be used. */
export const FEWER_DEVICES_TOLERANCE = 0.05;

/** The ladder's device order: fastest first (default MAC rate), then the most memory, then as listed. */
export function ladderOrder(devices: readonly DeviceProfile[]): number[] {
  return devices
    .map((_, i) => i)
    .sort((a, b) => devices[b].macPerSec.default - devices[a].macPerSec.default || usableBytes(devices[b]) - usableBytes(devices[a]) || a - b);
}

/** Rung sizes: every count up to 16 devices, beyond that doubling, always all of them. */
export function ladderSizes(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k = n <= 16 ? k + 1 : k * 2) ks.push(k);
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

function optionsOf(req: PlanRequest, devices: readonly DeviceProfile[], spans: readonly Span[]): Option[][] {
  const g = req.graph;
  const o = objectiveFor(g, devices, req.lambda);
  const ks = prefixSizes(devices.length);
  return spans.map((span) => {
    const orders = deviceOrders(g, span, devices);
    const subsets = orders.flatMap((order) => ks.map((k) => order.slice(0, k)));
    return spanOptions(g, devices, o, span, [...subsets, ...singles(devices, orders)]);
  });
}

/**
 * Devices alone (the vertical-only plans): all of them when few, else the
 * fastest and the roomiest few, enough alternatives for the memory search.
 */
function singles(devices: readonly DeviceProfile[], orders: readonly number[][]): number[][] {
  return devices.length <= ALL_SINGLES_UP_TO ? devices.map((_, d) => [d]) : orders.flatMap((o) => o.slice(0, SINGLES_PER_ORDER).map((d) => [d]));
}

/** The best vertical-only plan over chains of any length (the layerwise baseline's space; the ladder caps the chains it offers whole). */
function verticalAnyLength(req: PlanRequest, devices: readonly DeviceProfile[]): Option[] | null {
  const g = req.graph;
  const o = objectiveFor(g, devices, req.lambda);
  const spans = candidateSpans(g, 1);
  // One pair of orders for every span (fastest by MAC rate, roomiest): long chains are many.
  const byMemory = devices.map((_, i) => i).sort((a, b) => usableBytes(devices[b]) - usableBytes(devices[a]) || a - b);
  const alone = singles(devices, [ladderOrder(devices), byMemory]);
  const options = spans.map((span) => spanOptions(g, devices, o, span, alone));
  return searchStages(g.ops.length, devices, spans, options).feasible;
}

const devicesUsed = (chosen: readonly Option[]) => new Set(chosen.flatMap((o) => o.choice.fragments.flatMap((f) => f.devices))).size;

/**
 * The search on every rung of the ladder: the feasible plan of each rung
 * (each seeded with the rung below, so the search objective never rises up
 * the ladder) and the closest infeasible attempt on all devices.
 */
function searchLadder(req: PlanRequest, devices: readonly DeviceProfile[]): { rungs: Option[][]; closest: Option[] | null } {
  const g = req.graph;
  const n = devices.length;
  const spans = withChainTails(g, candidateSpans(g, req.maxFuse ?? DEFAULT_MAX_FUSE, DEFAULT_MAX_WHOLE));
  const options = optionsOf(req, devices, spans);
  const order = ladderOrder(devices);
  const rank = new Array<number>(n);
  order.forEach((d, r) => (rank[d] = r));
  const needed = modelParamBytes(g);
  const rungs: Option[][] = [];
  let closest: Option[] | null = null;
  let room = 0;
  let k = 0;
  for (const size of ladderSizes(n)) {
    for (; k < size; k++) room += usableBytes(devices[order[k]]);
    // Fewer bytes than the model's parameters whole: no plan on this rung.
    if (room < needed && size < n) continue;
    const within = (o: Option) => o.choice.fragments.every((f) => f.devices.every((d) => rank[d] < size));
    const opts = size === n ? options : options.map((os) => os.filter(within));
    // Vertical cuts alone first: a small search whose plan, when one fits, the full search can only improve on.
    const vertical = searchStages(g.ops.length, devices, spans, opts.map((os) => os.filter((o) => o.choice.split === 'whole')));
    const seeds = [vertical.feasible, rungs[rungs.length - 1]].filter((s): s is Option[] => !!s);
    const r = searchStages(g.ops.length, devices, spans, opts, seeds);
    if (r.feasible) rungs.push(r.feasible);
    if (size === n) closest = r.closest;
  }
  return { rungs, closest };
}

/** Of feasible plans, the one on the fewest devices whose dataflow objective is within the tolerance of the best. */
function fewestWithinTolerance(req: PlanRequest, plans: readonly Option[][]): Option[] {
  const o = objectiveFor(req.graph, req.devices, req.lambda);
  const scored = plans.map((p) => ({ p, j: scheduleObjective(o, predictStages(req, p.map((x) => x.choice))), used: devicesUsed(p) }));
  const best = Math.min(...scored.map((s) => s.j));
  return scored.filter((s) => s.j <= best * (1 + FEWER_DEVICES_TOLERANCE)).sort((a, b) => a.used - b.used || a.j - b.j)[0].p;
}

const sameProfile = (a: DeviceProfile, b: DeviceProfile) => JSON.stringify({ ...a, id: '', kind: undefined }) === JSON.stringify({ ...b, id: '', kind: undefined });

/**
 * Plans found on copies of the reference device with the set's smallest usable
 * budget, moved onto the real devices fastest first: what fits a copy fits any
 * device of the set (a fragment's bytes depend on its boxes, not on who runs it).
 */
function onReferenceCopies(req: PlanRequest, devices: readonly DeviceProfile[]): Option[][] {
  const ref = referenceDevice(Math.min(...devices.map(usableBytes)));
  if (devices.every((d) => sameProfile({ ...d, budget: usableBytes(d), reservedBytes: 0 }, ref))) return [];
  const copies = devices.map((_, i) => ({ ...ref, id: `ref${i}` }));
  const { rungs } = searchLadder({ ...req, devices: copies, lambda: 0 }, copies);
  const order = ladderOrder(devices);
  const o = objectiveFor(req.graph, devices, req.lambda);
  return rungs.map((plan) =>
    plan.map((opt) =>
      evaluateOption(req.graph, devices, o, {
        ...opt.choice,
        fragments: opt.choice.fragments.map((f) => ({ ...f, devices: f.devices.map((d) => order[d]) })),
      }),
    ),
  );
}

/** The search itself, on any device list (the replicated strategy runs it on device groups). */
export function searchMicrosplit(req: PlanRequest, devices: readonly DeviceProfile[]): SearchResult {
  const r = { ...req, devices: [...devices] };
  const { rungs, closest } = searchLadder(r, devices);
  const vertical = verticalAnyLength(r, devices);
  const found = vertical ? [...rungs, vertical] : rungs;
  const plans = found.length ? found : onReferenceCopies(r, devices);
  return { feasible: plans.length ? fewestWithinTolerance(r, plans) : null, closest };
}

export const microsplit: Strategy = {
  name: 'microsplit',
  summary: 'vertical cuts + per-stage row/channel/neuron splits sized to speed and memory, fused tiles, on the fewest devices that pay (ours)',
  async plan(req) {
    const r = searchMicrosplit(req, req.devices);
    if (r.feasible) return assemblePlan(req, 'microsplit', r.feasible.map((o) => o.choice));
    throw infeasibleError(req, 'microsplit', r.closest && assemblePlan(req, 'microsplit', r.closest.map((o) => o.choice)), (devices) =>
      searchMicrosplit({ ...req, devices }, devices).feasible !== null,
    );
  },
};
