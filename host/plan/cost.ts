// The cost model: per fragment MACs, bytes moved, compute and transfer time,
// energy; the makespan of a plan by a discrete-event schedule; the normalized
// objective (1-λ)·latency + λ·energy (DISNET). The executor's predictions come
// from here too, so this is the one place these numbers are computed.
//
// Schedule rules: activations cross the gateway (star), so a fragment's input
// tile goes gateway -> device and its output box device -> gateway, each hop
// paying the link's latency plus bytes / rate (towards the device, chunks
// may wait for the receive window's acknowledgements); every RUN pays the
// device's fixed overhead, and first its share of the gateway's own work
// (gatewayS), which the gateway does for one RUN at a time.
// Plans are predicted by scheduleDataflow, as the executor runs them: each
// fragment once the boxes it reads are back, one RUN per device at a time.
// Where the plan routes part of a fragment's input straight from its
// producer's device (DISNET's mesh, host/plan/routes.ts), that part leaves
// the producer once computed and crosses the pair's direct link (no link on
// the same device); the gateway sends only the rest and still receives every
// output box. The search itself compares plans without routes.
// The search compares stages by scheduleStage's rules: a device computes one
// fragment at a time and its link carries one transfer at a time; a stage starts when
// the previous stage has finished (the gateway stitches whole tensors between
// stages); a replicated fragment is done at its first replica's result and the
// late replicas are cancelled at the stage's end. Gateway-side ops take no time.
import { boxMacs } from '../abi/ops/table.ts';
import { geometryOf } from '../model/ops/table.ts';
import { DTYPE_BYTES, type Graph } from '../model/ir.ts';
import type { Unit } from './dataflow.ts';
import type { Route } from './routes.ts';
import { boxVolume, fullBox, outputView, runsOnGateway, type OpBox } from './fragments.ts';
import { macRate, speedKey, type DeviceProfile, type SpeedKey } from './profiles.ts';

/** Multiply-accumulates (or comparisons/adds for pools, ADD, SOFTMAX) to compute one op's box. */
export function opMacs(g: Graph, ob: OpBox): number {
  return boxMacs(geometryOf(g, ob.op), ob.out);
}

/** What a fragment costs wherever it runs. */
export interface Work {
  /** MACs per op, keyed by the speed that prices them (its kind, or CONV_2D_1X1), in the order the ops run. */
  macs: { kind: SpeedKey; macs: number }[];
  totalMacs: number;
  /** Input tiles sent to the device (halo included). */
  inBytes: number;
  /** Output box sent back. */
  outBytes: number;
}

/** The speed key of op `op`: its kind, or CONV_2D_1X1 for a 1x1 convolution. */
export function opSpeedKey(g: Graph, op: number): SpeedKey {
  const geo = geometryOf(g, op);
  const [kh, kw] = 'filterShape' in geo ? geo.filterShape.slice(1, 3) : [0, 0];
  return speedKey(g.ops[op].kind, kh, kw);
}

export function fragmentWork(g: Graph, ops: readonly OpBox[]): Work {
  const macs = ops.map((ob) => ({ kind: opSpeedKey(g, ob.op), macs: opMacs(g, ob) }));
  const first = g.ops[ops[0].op];
  const last = g.ops[ops[ops.length - 1].op];
  let inBytes = 0;
  ops[0].tiles.forEach((t, k) => {
    if (t) inBytes += boxVolume(t) * DTYPE_BYTES[g.tensors[first.inputs[k]].dtype];
  });
  const outBytes = boxVolume(ops[ops.length - 1].out) * DTYPE_BYTES[g.tensors[last.outputs[0]].dtype];
  return { macs, totalMacs: macs.reduce((s, m) => s + m.macs, 0), inBytes, outBytes };
}

export interface Timing {
  sendS: number;
  computeS: number;
  returnS: number;
}

/**
 * Tile bytes per chunk of a transfer to a device with a receive window of W
 * wire bytes: about W/2 (host/link/client.ts) less the chunk's header and
 * framing (about 30 bytes for a RUN).
 */
const chunkBytes = (windowBytes: number) => Math.max(1, windowBytes / 2 - 32);

/**
 * Seconds to move `bytes` to the device: at the line rate, except that with
 * a receive window the client keeps at most two chunks unacknowledged, so
 * chunk k leaves once chunk k - 2's acknowledgement is back (its line time
 * and a round trip later): every two chunks take the longer of their line
 * time and one chunk's line time plus a round trip. A tile of one or two
 * chunks never waits.
 */
export function sendSeconds(d: DeviceProfile, bytes: number): number {
  const { bytesPerSec: rate, latencyS, windowBytes } = d.link;
  if (!windowBytes || bytes <= 0) return bytes / rate;
  const c = chunkBytes(windowBytes);
  const chunks = Math.ceil(bytes / c);
  const chunkS = windowBytes / 2 / rate;
  const pairS = Math.max(2 * chunkS, chunkS + 2 * latencyS);
  const lastLeaves = Math.floor((chunks - 1) / 2) * pairS + ((chunks - 1) % 2) * chunkS;
  return lastLeaves + (bytes - (chunks - 1) * c) / rate;
}

export function timing(d: DeviceProfile, w: Work): Timing {
  return {
    sendS: d.link.latencyS + sendSeconds(d, w.inBytes),
    computeS: d.runOverheadS + w.macs.reduce((s, m) => s + m.macs / macRate(d, m.kind), 0),
    returnS: d.link.latencyS + w.outBytes / d.link.bytesPerSec,
  };
}

/** Energy a device spends on one fragment: compute, receiving its tile, sending its box. */
export function activeEnergy(d: DeviceProfile, w: Work): number {
  return w.totalMacs * d.energy.joulesPerMac + w.inBytes * d.energy.joulesPerByteReceived + w.outBytes * d.energy.joulesPerByteSent;
}

/** A fragment as the schedule sees it: its work and the devices (replicas) that run it. */
export interface ScheduledFragment {
  work: Work;
  devices: number[];
}

export interface ReplicaTimes {
  device: number;
  start: number;
  end: number;
}

export interface FragmentTimes {
  start: number;
  /** The first replica's result. */
  end: number;
  replicas: ReplicaTimes[];
}

export interface StageTimes {
  start: number;
  end: number;
  fragments: FragmentTimes[];
  /** Energy of compute and transfers, every replica counted in full. */
  activeJ: number;
  /** Σ over devices of idle watts x busy seconds (busy capped at the stage's end). */
  busyIdleWattSeconds: number;
}

/** Discrete-event schedule of one stage starting at t0 with every device and link free. */
export function scheduleStage(devices: readonly DeviceProfile[], fragments: readonly ScheduledFragment[], t0: number): StageTimes {
  const deviceFree = new Map<number, number>();
  const linkFree = new Map<number, number>();
  const busy = new Map<number, number>();
  let gatewayFree = t0;
  let activeJ = 0;
  const times = fragments.map((f): FragmentTimes => {
    const replicas = f.devices.map((di): ReplicaTimes => {
      const d = devices[di];
      const t = timing(d, f.work);
      const gatewayStart = Math.max(t0, linkFree.get(di) ?? t0, gatewayFree);
      gatewayFree = gatewayStart + d.gatewayS;
      const sendEnd = gatewayFree + t.sendS;
      const computeEnd = Math.max(sendEnd, deviceFree.get(di) ?? t0) + t.computeS;
      deviceFree.set(di, computeEnd);
      const end = computeEnd + t.returnS;
      linkFree.set(di, end);
      activeJ += activeEnergy(d, f.work);
      return { device: di, start: gatewayStart, end };
    });
    return { start: Math.min(...replicas.map((r) => r.start)), end: Math.min(...replicas.map((r) => r.end)), replicas };
  });
  const end = times.reduce((e, f) => Math.max(e, f.end), t0);
  for (const f of times)
    for (const r of f.replicas) busy.set(r.device, (busy.get(r.device) ?? 0) + Math.max(0, Math.min(r.end, end) - r.start));
  let busyIdleWattSeconds = 0;
  for (const [di, s] of busy) busyIdleWattSeconds += devices[di].energy.idleWatts * Math.min(s, end - t0);
  return { start: t0, end, fragments: times, activeJ, busyIdleWattSeconds };
}

/** Scales that make latency and energy comparable: the work bound and its energy. */
export interface Normalizers {
  latencyS: number;
  energyJ: number;
}

export function totalModelMacs(g: Graph): number {
  return g.ops.reduce((s, _, i) => (runsOnGateway(g, i) ? s : s + opMacs(g, { op: i, out: fullBox(outputView(g, i)), tiles: [] })), 0);
}

/** Fastest rate of each device over the op kinds: what bounds its throughput. */
function peakRate(d: DeviceProfile): number {
  return Math.max(...Object.values(d.macPerSec));
}

/**
 * A makespan no plan can beat: every MAC of the model must run somewhere
 * (total MACs / the devices' summed peak rate), after the first input reached
 * a device and before the last result came back (two latencies). The critical
 * path through the ops is not a separate term: with every op bounded by the
 * same summed rate, its sum along any path is at most the total.
 */
export function makespanLowerBound(g: Graph, devices: readonly DeviceProfile[]): number {
  const macs = totalModelMacs(g);
  if (macs === 0) return 0;
  const rate = devices.reduce((s, d) => s + peakRate(d), 0);
  const minLatency = Math.min(...devices.map((d) => d.link.latencyS));
  return 2 * minLatency + macs / rate;
}

export function normalizers(g: Graph, devices: readonly DeviceProfile[]): Normalizers {
  const macs = totalModelMacs(g);
  const latencyS = Math.max(1e-9, macs / devices.reduce((s, d) => s + peakRate(d), 0));
  const idleW = devices.reduce((s, d) => s + d.energy.idleWatts, 0);
  const minJPerMac = Math.min(...devices.map((d) => d.energy.joulesPerMac));
  return { latencyS, energyJ: Math.max(1e-12, macs * minJPerMac, latencyS * idleW) };
}

/** Everything the objective needs, fixed for one planning request. */
export interface Objective {
  lambda: number;
  norms: Normalizers;
  /** Σ idle watts of every device in the set (all are powered for the whole inference). */
  idleWatts: number;
}

export function objectiveFor(g: Graph, devices: readonly DeviceProfile[], lambda: number): Objective {
  return { lambda, norms: normalizers(g, devices), idleWatts: devices.reduce((s, d) => s + d.energy.idleWatts, 0) };
}

/**
 * One stage's share of the objective. Exact and additive: energy = active
 * energy + Σ_d idle_d·(makespan - busy_d), and makespan = Σ stage durations,
 * so each stage contributes its duration times Σ idle minus its busy idle.
 */
export function stageObjective(o: Objective, s: StageTimes): number {
  const duration = s.end - s.start;
  const energy = s.activeJ + duration * o.idleWatts - s.busyIdleWattSeconds;
  return ((1 - o.lambda) * duration) / o.norms.latencyS + (o.lambda * energy) / o.norms.energyJ;
}

/** A whole schedule's objective, normalized as stageObjective's: what plans are compared by once scheduled in dataflow. */
export function scheduleObjective(o: Objective, t: { makespanS: number; energyJ: number }): number {
  return ((1 - o.lambda) * t.makespanS) / o.norms.latencyS + (o.lambda * t.energyJ) / o.norms.energyJ;
}

export interface PlanTimes {
  stages: StageTimes[];
  makespanS: number;
  energyJ: number;
  objective: number;
}

/** Schedules stages one after another and totals makespan, energy and objective. */
export function schedulePlan(devices: readonly DeviceProfile[], stages: readonly (readonly ScheduledFragment[])[], o: Objective): PlanTimes {
  let t = 0;
  const times = stages.map((frags) => {
    const s = scheduleStage(devices, frags, t);
    t = s.end;
    return s;
  });
  const active = times.reduce((e, s) => e + s.activeJ, 0);
  const busyIdle = times.reduce((e, s) => e + s.busyIdleWattSeconds, 0);
  const energyJ = active + t * o.idleWatts - busyIdle;
  return { stages: times, makespanS: t, energyJ, objective: times.reduce((j, s) => j + stageObjective(o, s), 0) };
}

/**
 * The dataflow schedule of a plan (host/plan/dataflow.ts), as the executor
 * runs it: each fragment is sent once the units it depends on are done, each
 * device runs one RUN at a time (send, compute, return) in plan order, a
 * gateway stage takes no time. Replicas race; the late ones are cancelled
 * when the first result is in. Energy counts every replica's work in full and
 * idle power outside each device's busy time. `objective` is the search's
 * (stages in sequence, schedulePlan), the figure plans are chosen by.
 */
export function scheduleDataflow(
  devices: readonly DeviceProfile[],
  stages: readonly (readonly ScheduledFragment[])[],
  units: readonly Unit[],
  o: Objective,
  routes?: readonly (readonly (readonly Route[])[])[],
): PlanTimes {
  const end: number[] = [];
  /** When each fragment unit's first result was computed: a forward leaves its device then. */
  const computed: number[] = [];
  const incoming = forwardsInto(units, routes);
  const deviceFree = new Map<number, number>();
  const gateway = new GatewayTime();
  const frags: FragmentTimes[][] = stages.map(() => []);
  const bounds = stages.map(() => ({ start: Infinity, end: 0, activeJ: 0, busyIdle: 0 }));
  units.forEach((u, i) => {
    const ready = u.deps.reduce((t, d) => Math.max(t, end[d]), 0);
    const b = bounds[u.stage];
    if (u.fragment === undefined) {
      end[i] = ready;
      b.start = Math.min(b.start, ready);
      b.end = Math.max(b.end, ready);
      return;
    }
    const f = stages[u.stage][u.fragment];
    const into = incoming.get(i) ?? [];
    const forwarded = into.reduce((a, r) => a + r.bytes, 0);
    let computedAt = Infinity;
    const replicas = f.devices.map((di): ReplicaTimes => {
      const d = devices[di];
      const t = timing(d, { ...f.work, inBytes: f.work.inBytes - forwarded });
      const start = gateway.take(Math.max(ready, deviceFree.get(di) ?? 0), d.gatewayS);
      // Forwarded ranges leave their producer's device when it has computed them, over the direct link.
      const arrived = into.reduce((a, r) => Math.max(a, computed[r.unit] + r.link.latencyS + r.bytes / r.link.bytesPerSec), start + d.gatewayS + t.sendS);
      computedAt = Math.min(computedAt, arrived + t.computeS);
      return { device: di, start, end: arrived + t.computeS + t.returnS };
    });
    computed[i] = computedAt;
    const first = Math.min(...replicas.map((r) => r.end));
    for (const r of replicas) {
      const stop = Math.max(r.start, Math.min(r.end, first));
      deviceFree.set(r.device, stop);
      b.busyIdle += devices[r.device].energy.idleWatts * (stop - r.start);
      b.activeJ += activeEnergy(devices[r.device], f.work);
    }
    end[i] = first;
    frags[u.stage][u.fragment] = { start: Math.min(...replicas.map((r) => r.start)), end: first, replicas };
    b.start = Math.min(b.start, frags[u.stage][u.fragment].start);
    b.end = Math.max(b.end, first);
  });
  const times = bounds.map(
    (b, si): StageTimes => ({ start: Number.isFinite(b.start) ? b.start : 0, end: b.end, fragments: frags[si], activeJ: b.activeJ, busyIdleWattSeconds: b.busyIdle }),
  );
  const makespanS = end.reduce((a, t) => Math.max(a, t), 0);
  const active = times.reduce((e, s) => e + s.activeJ, 0);
  const busyIdle = times.reduce((e, s) => e + s.busyIdleWattSeconds, 0);
  return { stages: times, makespanS, energyJ: active + makespanS * o.idleWatts - busyIdle, objective: schedulePlan(devices, stages, o).objective };
}

/**
 * The gateway's time in a dataflow schedule: busy intervals, each a RUN's
 * share of its work. Units are scheduled in plan order, not time order, so
 * a RUN takes the earliest gap long enough for it, as the gateway serves
 * RUNs in the order they become ready.
 */
class GatewayTime {
  private readonly busy: [number, number][] = [];

  /** Books `length` seconds at the earliest gap from `from` on; returns its start. */
  take(from: number, length: number): number {
    if (length <= 0) return from;
    let at = from;
    let i = 0;
    for (; i < this.busy.length; i++) {
      const [s, e] = this.busy[i];
      if (e <= at) continue;
      if (s >= at + length) break;
      at = e;
    }
    this.busy.splice(i, 0, [at, at + length]);
    return at;
  }
}

/** Forwarded ranges into each fragment unit: from which unit, how many bytes, over which direct link. */
function forwardsInto(
  units: readonly Unit[],
  routes?: readonly (readonly (readonly Route[])[])[],
): Map<number, { unit: number; bytes: number; link: { bytesPerSec: number; latencyS: number } }[]> {
  const into = new Map<number, { unit: number; bytes: number; link: { bytesPerSec: number; latencyS: number } }[]>();
  if (!routes) return into;
  const unitOf = new Map<string, number>();
  units.forEach((u, i) => u.fragment !== undefined && unitOf.set(`${u.stage}/${u.fragment}`, i));
  routes.forEach((stage, si) =>
    stage.forEach((list, fi) =>
      list.forEach((r) => {
        const to = unitOf.get(`${r.stage}/${r.fragment}`)!;
        into.set(to, [...(into.get(to) ?? []), { unit: unitOf.get(`${si}/${fi}`)!, bytes: r.bytes, link: r.link }]);
      }),
    ),
  );
  return into;
}
