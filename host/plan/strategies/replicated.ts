// `replicated` (after RoCoIn): devices form groups by follow-the-leader
// (sorted by speed, a leader takes the next most similar devices until the
// group's joint failure probability is <= ε, or a fixed count); the
// microsplit search plans over one virtual device per group (its weakest
// member's speed, link and budget); per stage, Kuhn-Munkres matching then
// assigns the stage's fragments to its groups by the groups' real first-result
// times; each fragment runs on every member of its group, the first valid
// result wins.
import { assemblePlan, infeasibleError, type PlanRequest } from '../assemble.ts';
import { fragmentWork, timing } from '../cost.ts';
import { hungarian } from '../hungarian.ts';
import { SPEED_KEYS, macRate, type DeviceProfile } from '../profiles.ts';
import { overflow, type Option } from '../search.ts';
import type { StageChoice } from '../stages.ts';
import { searchMicrosplit } from './microsplit.ts';
import type { Strategy } from './types.ts';

/** Follow-the-leader groups of device indices. */
export function followTheLeader(devices: readonly DeviceProfile[], rule: { epsilon: number } | { replicas: number }): number[][] {
  const order = devices.map((_, i) => i).sort((a, b) => devices[b].macPerSec.default - devices[a].macPerSec.default || a - b);
  const groups: number[][] = [];
  let group: number[] = [];
  let fail = 1;
  for (const d of order) {
    group.push(d);
    fail *= devices[d].failureProb;
    const done = 'epsilon' in rule ? fail <= rule.epsilon : group.length === rule.replicas;
    if (done) {
      groups.push(group);
      group = [];
      fail = 1;
    }
  }
  // Leftovers cannot form a group of their own: they strengthen the last one.
  if (group.length) {
    if (groups.length) groups[groups.length - 1].push(...group);
    else groups.push(group);
  }
  return groups;
}

/** One device standing for a group: what every member can do (the weakest), energy of all replicas. */
export function groupDevice(devices: readonly DeviceProfile[], group: readonly number[]): DeviceProfile {
  const ms = group.map((i) => devices[i]);
  const min = (f: (d: DeviceProfile) => number) => Math.min(...ms.map(f));
  const sum = (f: (d: DeviceProfile) => number) => ms.reduce((s, d) => s + f(d), 0);
  const rates: Record<string, number> = { default: min((d) => d.macPerSec.default) };
  for (const k of SPEED_KEYS) rates[k] = min((d) => macRate(d, k));
  return {
    id: ms.map((d) => d.id).join('+'),
    kind: undefined,
    budget: min((d) => d.budget - d.reservedBytes),
    reservedBytes: 0,
    runOverheadS: Math.max(...ms.map((d) => d.runOverheadS)),
    // Every replica is sent and read by the gateway.
    gatewayS: sum((d) => d.gatewayS),
    macPerSec: rates as DeviceProfile['macPerSec'],
    link: {
      bytesPerSec: min((d) => d.link.bytesPerSec),
      latencyS: Math.max(...ms.map((d) => d.link.latencyS)),
      ...(ms.some((d) => d.link.windowBytes) ? { windowBytes: min((d) => d.link.windowBytes ?? Infinity) } : {}),
    },
    energy: {
      joulesPerMac: sum((d) => d.energy.joulesPerMac),
      joulesPerByteSent: sum((d) => d.energy.joulesPerByteSent),
      joulesPerByteReceived: sum((d) => d.energy.joulesPerByteReceived),
      idleWatts: sum((d) => d.energy.idleWatts),
    },
    failureProb: ms.reduce((p, d) => p * d.failureProb, 1),
  };
}

/** Re-matches each stage's fragments to the stage's groups by the real first-result time, keeping budgets. */
function matchStages(req: PlanRequest, groups: number[][], virtual: DeviceProfile[], chosen: readonly Option[]): StageChoice[] {
  const g = req.graph;
  const stages = chosen.map((o) => o.choice);
  return stages.map((stage, si) => {
    const used = stage.fragments.map((f) => f.devices[0]);
    if (used.length < 2) return stage;
    const firstResult = (work: ReturnType<typeof fragmentWork>, gi: number) =>
      Math.min(...groups[gi].map((d) => {
        const t = timing(req.devices[d], work);
        return t.sendS + t.computeS + t.returnS;
      }));
    const works = stage.fragments.map((f) => fragmentWork(g, f.ops));
    const assign = hungarian(works.map((w) => used.map((gi) => firstResult(w, gi))));
    const matched: StageChoice = { ...stage, fragments: stage.fragments.map((f, fi) => ({ ...f, devices: [used[assign[fi]]] })) };
    const trial = chosen.map((o, k) => (k === si ? { ...o, params: remap(o.params, used, assign), act: remap(o.act, used, assign) } : o));
    return overflow(virtual, trial).every((v) => v <= 0) ? matched : stage;
  });
}

/** Moves per-group figures along with their fragments: fragment i goes from used[i] to used[assign[i]]. */
function remap(pairs: readonly [number, number][], used: readonly number[], assign: readonly number[]): [number, number][] {
  const to = new Map(used.map((gi, i) => [gi, used[assign[i]]]));
  return pairs.map(([d, v]) => [to.get(d) ?? d, v]);
}

function searchReplicated(req: PlanRequest, devices: DeviceProfile[]): { stages: StageChoice[] | null; closest: StageChoice[] | null } {
  const rule = req.replicas !== undefined ? { replicas: req.replicas } : { epsilon: req.epsilon ?? 0.01 };
  const groups = followTheLeader(devices, rule);
  const virtual = groups.map((gr) => groupDevice(devices, gr));
  const r = searchMicrosplit({ ...req, devices: virtual }, virtual);
  const expand = (stages: StageChoice[]) =>
    stages.map((s) => ({ ...s, fragments: s.fragments.map((f) => ({ ...f, devices: f.devices.flatMap((gi) => groups[gi]) })) }));
  return {
    stages: r.feasible && expand(matchStages({ ...req, devices }, groups, virtual, r.feasible)),
    closest: r.closest && expand(r.closest.map((o) => o.choice)),
  };
}

export const replicated: Strategy = {
  name: 'replicated',
  summary: 'RoCoIn-style: follow-the-leader replica groups (failure <= epsilon or k replicas), Kuhn-Munkres assignment',
  async plan(req) {
    const r = searchReplicated(req, req.devices);
    if (r.stages) return assemblePlan(req, 'replicated', r.stages);
    throw infeasibleError(req, 'replicated', r.closest && assemblePlan(req, 'replicated', r.closest), (devices) => searchReplicated({ ...req, devices }, devices).stages !== null);
  },
};
