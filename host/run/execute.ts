// Running inferences on a deployment: in dataflow order (a fragment is sent
// as soon as the boxes its tiles overlap are back, host/plan/dataflow.ts),
// the gateway cuts each fragment's input tiles (halo included) out of the
// tensors it holds, sends them, and stitches the returned boxes. Replicated fragments race and the
// losers are cancelled (RoCoIn). A device whose link ends is marked at once;
// one that stays silent past a RUN's expected time (no byte, no PING answer)
// is suspected, and a healthy device that holds the fragment or has room to
// load it joins the race. Slow but healthy devices lose work to free ones
// (DeepThings' pull-based stealing): a device whose lane runs dry pulls the
// oldest unfinished fragment it holds (its own, a replica, a standby, or one
// loaded to take over) whose devices are expected to finish it STEAL_MARGIN
// times later than it would alone, and a fragment becoming ready goes to such
// a free holder instead of its busy or slow assigned device. Expected times
// come from the cost model times each device's measured slowness, so a
// fault-free run with no spare copies runs as planned. A result is used only
// when its size is right, and is stitched by its box whichever device
// computed it; what cannot complete fails in bounded time, naming the
// fragment and the device.
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceError, type DeviceClient } from '../link/client.ts';
import { DTYPE_BYTES, numElements, type DType, type Graph, type TensorData } from '../model/ir.ts';
import { prepareOp } from '../model/op-params.ts';
import { runOpBox, wholeOutputBox } from '../model/oracle.ts';
import { fragmentWork, timing, type Work } from '../plan/cost.ts';
import { dataflowUnits, type Unit } from '../plan/dataflow.ts';
import { inputView, outputView } from '../plan/fragments.ts';
import type { Plan, PlanStage } from '../plan/plan-file.ts';
import { extractBox, insertBox } from './boxes.ts';
import type { DeployedFragment, Deployment } from './deploy.ts';
import { MeshRoutes } from './mesh-routes.ts';
import { Trace } from './trace.ts';

type ArrayType = { new (n: number): TensorData; new (buf: ArrayBuffer, offset: number, length: number): TensorData };
const ARRAY: Record<DType, ArrayType> = { int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

export interface ExecuteOptions {
  /**
   * Hard deadline of a RUN, from when its device is free: slack + margin x
   * its expected duration on that device (its profile's, times the slowness
   * measured so far). Defaults 1000 ms and 4. Silent devices are caught
   * sooner by the watchdog (see attempt).
   */
  timeoutMargin?: number;
  timeoutSlackMs?: number;
  trace?: Trace;
  /** One line per notable event (a device marked unhealthy, a re-dispatch). */
  log?: (line: string) => void;
}

/**
 * How much sooner a free device must be expected to finish a fragment than
 * the devices it is queued on or running on, to take it: enough that the
 * noise of measured times does not move work around in a fault-free run.
 */
const STEAL_MARGIN = 1.5;

/** A RUN queued in or running on a device's lane (begun once running: performance.now()). */
interface LaneEntry {
  f: DeployedFragment;
  begun?: number;
}

/** A fragment of a running inference with no result yet: the devices on it and a way to add one. */
interface Race {
  f: DeployedFragment;
  tried: Set<string>;
  live: Map<string, LaneEntry>;
  join(id: string): void;
}

export class RunError extends Error {
  constructor(
    readonly fragment: string,
    readonly device: string,
    message: string,
  ) {
    super(`fragment ${fragment} on ${device}: ${message}`);
    this.name = 'RunError';
  }
}

/**
 * Device failures worth re-dispatching; anything else would fail the same way
 * elsewhere. A reply whose tag does not verify (FORGED) counts: that device's
 * link cannot be trusted, another device's answer can.
 */
function isDeviceLoss(e: unknown): boolean {
  return e instanceof DeviceError && (e.code === 'TIMEOUT' || e.code === 'DISCONNECTED' || e.code === 'FORGED');
}

const align8 = (n: number) => (n + 7) & ~7;

function bytesOf(d: TensorData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export interface InferenceResult {
  outputs: TensorData[];
  latencyMs: number;
}

export class Executor {
  readonly trace: Trace;
  readonly unhealthy = new Set<string>();
  /** Highest arena high-water mark each device reported. */
  readonly highWater = new Map<string, number>();
  /** performance.now() when the executor was made: the origin of its trace's times. */
  readonly t0 = performance.now();
  private readonly margin: number;
  private readonly slackMs: number;
  /** Extra fragments devices loaded to take over work, with their bytes. */
  private readonly extra = new Map<string, { params: number; act: number }>();
  private readonly log: (line: string) => void;
  private readonly lanes = new Map<string, Promise<unknown>>();
  /** What each device's lane holds, in order, for its expected backlog. */
  private readonly laneWork = new Map<string, LaneEntry[]>();
  /** Fragments not finished yet, oldest first: what a free device may pull. */
  private readonly races = new Set<Race>();
  /** Devices being PINGed after a silent cancelled run. */
  private readonly checking = new Set<string>();
  /** Devices silent past a RUN's expected end: given no new work until they show life. */
  private readonly suspected = new Set<string>();
  /**
   * Per device, moving sums of its measured and its profile's RUN times, ms:
   * their ratio is its slowness (1 or more). Long RUNs weigh more than short
   * ones, whose time is mostly fixed cost.
   */
  private readonly paced = new Map<string, { measured: number; expected: number }>();
  /** Each fragment's work, for its expected RUN times. */
  private readonly work = new Map<number, Work>();

  /** The plan's units in dataflow order, and its deployed fragments by stage and index. */
  private readonly units: Unit[];
  private readonly byStage: DeployedFragment[][];
  /** The plan's device-to-device routes as this run can use them. */
  private readonly mesh: MeshRoutes;

  constructor(
    readonly dep: Deployment,
    opts: ExecuteOptions = {},
  ) {
    this.units = dataflowUnits(
      dep.graph,
      dep.plan.stages.map((s) => ({ ops: s.ops, gateway: s.where === 'gateway', fragments: s.fragments })),
    );
    this.byStage = dep.plan.stages.map((s) => dep.fragments.filter((f) => f.stage === s.index));
    this.mesh = new MeshRoutes(dep);
    this.trace = opts.trace ?? new Trace();
    this.margin = opts.timeoutMargin ?? 4;
    this.slackMs = opts.timeoutSlackMs ?? 1000;
    this.log = opts.log ?? (() => undefined);
  }

  get graph(): Graph {
    return this.dep.graph;
  }

  get plan(): Plan {
    return this.dep.plan;
  }

  /** Runs one inference; `inputs` in the graph's input order. */
  async infer(inputs: TensorData[], index = 0): Promise<InferenceResult> {
    const g = this.graph;
    const start = performance.now();
    if (inputs.length !== g.inputs.length) throw new Error(`the model takes ${g.inputs.length} inputs, got ${inputs.length}`);
    const values: (TensorData | undefined)[] = new Array(g.tensors.length);
    g.inputs.forEach((id, k) => {
      const t = g.tensors[id];
      if (inputs[k].length !== numElements(t.shape) || !(inputs[k] instanceof ARRAY[t.dtype]))
        throw new Error(`input ${k} (${t.name}) must be ${numElements(t.shape)} ${t.dtype} values`);
      values[id] = inputs[k];
    });
    for (const f of this.dep.fragments) {
      const t = f.built.output.tensor;
      values[t] ??= new ARRAY[g.tensors[t].dtype](numElements(g.tensors[t].shape));
    }
    // Each unit starts when the units it reads from are done (dataflow order, host/plan/dataflow.ts).
    const done: Promise<void>[] = [];
    for (const u of this.units) {
      const ready = Promise.all(u.deps.map((d) => done[d]));
      const stage = this.plan.stages[u.stage];
      const p = ready.then(() => (u.fragment === undefined ? this.runOnGateway(stage, values) : this.runFragment(this.byStage[u.stage][u.fragment], values, index)));
      p.catch(() => undefined); // the first failure is reported below; later ones are its consequences
      done.push(p);
    }
    await Promise.all(done);
    return { outputs: g.outputs.map((id) => values[id]!), latencyMs: performance.now() - start };
  }

  /**
   * Runs many inferences, up to `concurrency` at once, so that stage k of one
   * input overlaps stage k+1 of the one before (each device still runs one
   * fragment at a time). Results come back in input order.
   */
  async inferMany(list: TensorData[][], concurrency = 2, onDone?: (i: number, r: InferenceResult) => void): Promise<InferenceResult[]> {
    const results: InferenceResult[] = new Array(list.length);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const i = next++;
        results[i] = await this.infer(list[i], i);
        onDone?.(i, results[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, list.length)) }, worker));
    return results;
  }

  /**
   * Loads every fragment that only one device holds onto a second device
   * with room for it (the one that would run it soonest), so that a lost
   * device's work is re-dispatched without a LOAD on the critical path. Uses
   * only room the plan leaves; a refusal just leaves that fragment without a
   * standby. Resolves with the number of standbys loaded.
   */
  async loadStandbys(): Promise<number> {
    const loads: Promise<boolean>[] = [];
    for (const f of this.dep.fragments) {
      const holders = [...this.dep.holds].filter(([, held]) => held.has(f.num)).map(([id]) => id);
      if (holders.length !== 1) continue;
      const to = this.candidates(f, new Set(holders))[0];
      if (to && !this.dep.holds.get(to)?.has(f.num)) loads.push(this.loadOnto(to, f));
    }
    const done = await Promise.all(loads);
    return done.filter(Boolean).length;
  }

  private runOnGateway(stage: PlanStage, values: (TensorData | undefined)[]): void {
    const g = this.graph;
    for (const opIndex of stage.ops) {
      const p = prepareOp(g, opIndex);
      const op = g.ops[opIndex];
      const tiles = op.inputs
        .filter((id) => id >= 0 && !g.tensors[id].data)
        .map((id) => ({ data: values[id]!, origin: g.tensors[id].shape.map(() => 0), shape: g.tensors[id].shape }));
      values[op.outputs[0]] = runOpBox(p, tiles, wholeOutputBox(p));
    }
  }

  private inputBytes(f: DeployedFragment, values: (TensorData | undefined)[]): Uint8Array {
    const g = this.graph;
    const firstOp = f.plan.ops[0].op;
    const parts = f.built.inputs.map((inp, k) => {
      const data = values[inp.tensor];
      if (!data) throw new RunError(f.plan.id, 'gateway', `input tensor ${inp.tensor} has not been computed`);
      const view = k === 0 ? inputView(g, firstOp) : g.tensors[inp.tensor].shape;
      return bytesOf(extractBox(data, view, inp.box));
    });
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * What one RUN of `f` should take on device `id`, ms: the cost model's
   * send, compute and return on that device, times how much slower than its
   * profile the device has measured so far.
   */
  private expectedMs(id: string, f: DeployedFragment): number {
    return this.profileMs(id, f) * this.slowness(id);
  }

  /** What one RUN of `f` takes on device `id` by its profile, ms (the plan's prediction on a device it does not know). */
  private profileMs(id: string, f: DeployedFragment): number {
    const profile = this.plan.devices.find((d) => d.id === id);
    if (!profile) return (f.plan.predicted.end - f.plan.predicted.start) * 1000;
    let work = this.work.get(f.num);
    if (!work) this.work.set(f.num, (work = fragmentWork(this.graph, f.plan.ops)));
    const t = timing(profile, work);
    return (t.sendS + t.computeS + t.returnS) * 1000;
  }

  /** Measured over profile RUN time of the device (1 until measured; never below 1). */
  private slowness(id: string): number {
    const p = this.paced.get(id);
    return p && p.expected > 0 ? Math.max(1, p.measured / p.expected) : 1;
  }

  /** The hard deadline of a RUN, counted from when its device is free: a live device that never answers. */
  private timeoutMs(id: string, f: DeployedFragment): number {
    return Math.ceil(this.slackMs + this.margin * this.expectedMs(id, f));
  }

  /**
   * How long a device may show no sign of life (no byte, no PING answer)
   * before it is suspected, ms: the PING's round trip behind at most a
   * receive window of chunks each way, and 100 ms for a busy or descheduled process.
   */
  private probeMs(id: string): number {
    const profile = this.plan.devices.find((d) => d.id === id);
    const window = this.dep.clients.get(id)!.info.window;
    if (!profile) return 500;
    return Math.ceil(1000 * (2 * profile.link.latencyS + (2 * window) / profile.link.bytesPerSec) + 100);
  }

  /** Folds one measured RUN into the device's slowness. */
  private measured(id: string, f: DeployedFragment, ms: number): void {
    const p = this.paced.get(id) ?? { measured: 0, expected: 0 };
    this.paced.set(id, { measured: 0.7 * p.measured + 0.3 * ms, expected: 0.7 * p.expected + 0.3 * this.profileMs(id, f) });
  }

  private holds(id: string, f: DeployedFragment): boolean {
    return this.dep.holds.get(id)?.has(f.num) === true;
  }

  /**
   * Whether the device may take more work now: nothing waits in or runs on
   * its lane, it is neither marked nor suspected, and its link is up (only
   * looked at: a pull after the session closed marks nobody).
   */
  private isIdle(id: string): boolean {
    const usable = !this.unhealthy.has(id) && !this.suspected.has(id) && this.dep.clients.get(id)?.isOpen === true;
    return usable && (this.laneWork.get(id)?.length ?? 0) === 0;
  }

  /**
   * When the device is expected to finish `entry`, ms from now: what runs
   * before it in its lane, then its own RUN (the device's whole backlog when
   * `entry` is not in it).
   */
  private finishMs(id: string, entry?: LaneEntry): number {
    const now = performance.now();
    let ms = 0;
    for (const e of this.laneWork.get(id) ?? []) {
      ms += e.begun === undefined ? this.expectedMs(id, e.f) : Math.max(0, e.begun + this.expectedMs(id, e.f) - now);
      if (e === entry) break;
    }
    return ms;
  }

  /**
   * A free healthy device, not in `exclude`, holding `f` and expected to
   * finish it STEAL_MARGIN times sooner than `finishMs` from now; the soonest.
   */
  private freeHolder(f: DeployedFragment, exclude: Set<string>, finishMs: number): string | undefined {
    const free = [...this.dep.clients.keys()].filter((id) => !exclude.has(id) && this.holds(id, f) && this.isIdle(id));
    const best = free.sort((a, b) => this.expectedMs(a, f) - this.expectedMs(b, f))[0];
    return best !== undefined && STEAL_MARGIN * this.expectedMs(best, f) < finishMs ? best : undefined;
  }

  /**
   * A device whose lane ran dry takes the oldest unfinished fragment it holds
   * whose devices are expected to finish it STEAL_MARGIN times later than it
   * would: it joins that race, and whichever result comes first is used.
   */
  private pull(id: string): void {
    if (!this.isIdle(id)) return;
    for (const r of this.races) {
      if (r.tried.has(id) || r.live.size === 0 || !this.holds(id, r.f)) continue;
      const theirs = Math.min(...[...r.live].map(([d, e]) => this.finishMs(d, e)));
      if (STEAL_MARGIN * this.expectedMs(id, r.f) >= theirs) continue;
      this.log(`fragment ${r.f.plan.id} pulled by ${id} from ${[...r.live.keys()].join('+')}`);
      r.join(id);
      return;
    }
  }

  /**
   * Devices that may take over `f`, not yet tried: healthy ones holding it,
   * suspected ones holding it (silent at their last check, not proven lost:
   * better waited for than a LOAD a false alarm would leave behind), then
   * healthy and suspected ones with room to load it.
   */
  private candidates(f: DeployedFragment, tried: Set<string>): string[] {
    const open = [...this.dep.clients.keys()].filter((id) => !tried.has(id) && this.isHealthy(id, true));
    const holds = (id: string) => this.dep.holds.get(id)?.has(f.num) === true;
    const fastest = (a: string, b: string) => this.expectedMs(a, f) - this.expectedMs(b, f);
    // The device that would load and run it soonest first: blob over its link, then its expected RUN.
    const soonest = (id: string) => this.loadMs(id, f) + this.expectedMs(id, f);
    const roomy = open.filter((id) => !holds(id) && this.hasRoom(id, f)).sort((a, b) => soonest(a) - soonest(b));
    const calm = (id: string) => !this.suspected.has(id);
    const holding = open.filter(holds).sort(fastest);
    return [...holding.filter(calm), ...holding.filter((id) => !calm(id)), ...roomy.filter(calm), ...roomy.filter((id) => !calm(id))];
  }

  /**
   * Not marked unhealthy nor silent at its last check, and its link is up:
   * a link that ended (EOF, reset) marks the device at once.
   */
  private isHealthy(id: string, suspectsToo = false): boolean {
    if (this.unhealthy.has(id) || (this.suspected.has(id) && !suspectsToo)) return false;
    const client = this.dep.clients.get(id);
    if (client?.isOpen) return true;
    this.markUnhealthy(id, 'its link is down');
    return false;
  }

  /** Time to LOAD `f` onto device `id` by its profile's link, ms. */
  private loadMs(id: string, f: DeployedFragment): number {
    const link = this.plan.devices.find((d) => d.id === id)?.link;
    return link ? 1000 * (link.latencyS + f.built.blob.length / link.bytesPerSec) : 0;
  }

  /** Whether the device's arena takes `f` on top of its plan and what it took over already (the agent's own accounting). */
  private hasRoom(id: string, f: DeployedFragment): boolean {
    const mem = this.plan.memory.find((m) => m.device === id);
    const extra = this.extra.get(id) ?? { params: 0, act: 0 };
    const act = Math.max(mem?.activationBytes ?? 0, extra.act);
    const need = align8(f.built.blob.length) + Math.max(0, align8(f.built.arena) - act);
    return this.dep.clients.get(id)!.info.budget - (mem?.paramBytes ?? 0) - extra.params - act >= need;
  }

  private markUnhealthy(id: string, why: string): void {
    if (this.unhealthy.has(id)) return;
    this.unhealthy.add(id);
    this.log(`device ${id} marked unhealthy: ${why}`);
  }

  /**
   * Runs `f` on its devices until one valid result arrives. The assigned
   * devices race (replicas), except that one expected to finish it
   * STEAL_MARGIN times later than a free holder leaves it to that holder;
   * a device whose lane runs dry may join (see pull). When every device
   * still working on it is lost or suspected (silent past its expected
   * time), a healthy device that holds it or has room to load it joins the
   * race. A suspect keeps running: a device that was only slow to answer
   * costs duplicate work, not a device. An error other than a lost device
   * ends the fragment once no attempt is left, since it would fail the same
   * way elsewhere.
   */
  private runFragment(f: DeployedFragment, values: (TensorData | undefined)[], index: number): Promise<void> {
    const input = this.inputBytes(f, values);
    return new Promise<void>((resolve, reject) => {
      const abort = new AbortController();
      const tried = new Set<string>();
      const live = new Map<string, LaneEntry>();
      const suspects = new Set<string>();
      let done = false;
      let finding = false;
      let failure: unknown;
      let lastError = '';
      let lastDevice = f.plan.devices[0];
      const fail = (e: unknown) => {
        if (done) return;
        done = true;
        this.races.delete(race);
        abort.abort();
        reject(e);
      };
      const launch = (id: string) => {
        const entry: LaneEntry = { f };
        tried.add(id);
        live.set(id, entry);
        const suspect = () => {
          suspects.add(id);
          void backup(true);
        };
        this.attempt(f, id, entry, input, index, values, abort.signal, suspect).then(
          (bytes) => {
            if (done) return;
            done = true;
            this.races.delete(race);
            abort.abort();
            this.store(f, values, bytes);
            resolve();
          },
          (e: unknown) => {
            live.delete(id);
            suspects.delete(id);
            if (done) return;
            if (isDeviceLoss(e)) {
              lastDevice = id;
              lastError = (e as Error).message;
            } else failure ??= e;
            if (live.size > 0 && live.size > suspects.size) return;
            if (failure !== undefined) {
              if (live.size === 0) fail(failure);
            } else void backup();
          },
        );
      };
      /** Adds a device to the race; on a mere suspicion only one already holding `f` (a false alarm then loads nothing). */
      const backup = async (holdersOnly = false) => {
        if (finding || done) return;
        finding = true;
        try {
          for (const id of this.candidates(f, tried)) {
            if (done) return;
            if (holdersOnly && !this.dep.holds.get(id)?.has(f.num)) continue;
            if (this.dep.holds.get(id)?.has(f.num) || (await this.loadOnto(id, f))) {
              if (done) return;
              this.log(`fragment ${f.plan.id} re-dispatched to ${id}`);
              launch(id);
              return;
            }
            tried.add(id);
          }
        } catch (e) {
          fail(e);
          return;
        } finally {
          finding = false;
        }
        if (live.size === 0)
          fail(new RunError(f.plan.id, lastDevice, `${lastError || 'every assigned device is unhealthy'}; no healthy device holds the fragment or has room to load it`));
      };
      const race: Race = { f, tried, live, join: launch };
      this.races.add(race);
      const group = f.plan.devices.filter((d) => this.isHealthy(d));
      if (group.length === 0) void backup();
      for (const d of group) {
        const to = this.freeHolder(f, new Set([...group, ...tried]), this.finishMs(d) + this.expectedMs(d, f));
        if (to) this.log(`fragment ${f.plan.id} pulled by ${to} from ${d}`);
        launch(to ?? d);
      }
    });
  }

  /**
   * Loads `f` onto a device taking it over. Its bytes are reserved before the
   * LOAD, so fragments stolen at the same time do not count the same room
   * twice; a refusal for memory or a lost device gives the room back.
   */
  private async loadOnto(id: string, f: DeployedFragment): Promise<boolean> {
    const before = this.extra.get(id) ?? { params: 0, act: 0 };
    this.extra.set(id, { params: before.params + align8(f.built.blob.length), act: Math.max(before.act, align8(f.built.arena)) });
    try {
      await this.dep.clients.get(id)!.load(f.num, f.built.blob, { arena: f.built.arena, digest: f.built.digest });
    } catch (e) {
      this.extra.set(id, before);
      if (isDeviceLoss(e)) this.markUnhealthy(id, (e as Error).message);
      else if (!(e instanceof DeviceError && e.code === 'NO_MEMORY')) throw e;
      return false;
    }
    this.dep.holds.get(id)?.add(f.num) ?? this.dep.holds.set(id, new Set([f.num]));
    return true;
  }

  /**
   * One RUN at a time per device, queued here rather than in the client, so
   * that a RUN's deadline counts from when its device is free: with several
   * inferences in flight, a fragment may wait behind others on a slow device.
   * `entry` stands in the device's lane until the RUN ends; a lane left empty
   * pulls work (once the results just in have released what depends on them).
   */
  private inLane<T>(id: string, entry: LaneEntry, fn: () => Promise<T>): Promise<T> {
    const work = this.laneWork.get(id) ?? this.laneWork.set(id, []).get(id)!;
    work.push(entry);
    const run = () => {
      entry.begun = performance.now();
      return fn();
    };
    const next = (this.lanes.get(id) ?? Promise.resolve()).then(run, run);
    const settled = next
      .catch(() => undefined)
      .then(() => {
        work.splice(work.indexOf(entry), 1);
        if (work.length === 0) setImmediate(() => this.pull(id));
      });
    this.lanes.set(id, settled);
    return next;
  }

  /**
   * One RUN of `f` on device `id`, recorded in the trace; aborting `signal`
   * cancels it (a rival's result won). While it runs, a watchdog checks the
   * device: once the RUN outlasts 1.5 times its expected time and probeMs,
   * and again every such interval, the device must show life within probeMs (a byte of any
   * frame, or a PING answer); if not, `suspect()` is called, and a PING that
   * fails for good marks it unhealthy and ends the RUN as a lost device.
   */
  private attempt(
    f: DeployedFragment,
    id: string,
    entry: LaneEntry,
    input: Uint8Array,
    index: number,
    /** The inference's tensor table: what its routes' run ids are kept by. */
    inference: object,
    signal: AbortSignal,
    suspect: () => void,
  ): Promise<Uint8Array> {
    const client: DeviceClient = this.dep.clients.get(id)!;
    const predictedMs = (f.plan.predicted.end - f.plan.predicted.start) * 1000;
    const start = performance.now() - this.t0;
    const retransmitsBefore = client.stats.retransmits;
    const framesBefore = client.stats.framesIn;
    const record = (outcome: 'ok' | 'cancelled' | 'timeout' | 'failed', bytesOut: number, detail?: string) =>
      this.trace.add({
        inference: index,
        stage: f.stage,
        fragment: f.plan.id,
        device: id,
        start,
        end: performance.now() - this.t0,
        begun: entry.begun === undefined ? undefined : entry.begun - this.t0,
        bytesIn: input.length,
        bytesOut,
        retries: client.stats.retransmits - retransmitsBefore,
        predictedMs,
        outcome,
        detail,
      });
    const timeoutMs = this.timeoutMs(id, f);
    const run = this.inLane(id, entry, async () => {
      const begun = performance.now();
      const stop = new AbortController();
      const cancel = () => stop.abort();
      signal.addEventListener('abort', cancel, { once: true });
      if (signal.aborted) cancel();
      if (this.unhealthy.has(id)) throw new DeviceError(id, 'DISCONNECTED', 'marked unhealthy while the RUN waited for it');
      const lost = this.watch(id, client, f, stop, suspect);
      lost.catch(() => undefined);
      try {
        // Device-to-device routes: what this RUN forwards, and what of its input other devices forwarded.
        const fw = this.mesh.forwardsOf(f, id, inference, (d) => this.isHealthy(d));
        const mesh = this.mesh.meshOf(f, id, inference, 1.5 * this.expectedMs(id, f) + this.probeMs(id));
        const running = client.run(f.num, input, { timeoutMs, signal: stop.signal, forwards: fw?.packed, mesh });
        running.catch(() => undefined); // when the watchdog wins the race, the RUN's own failure follows unobserved
        const r = await Promise.race([running, lost]);
        if (fw) this.mesh.sent(inference, fw);
        this.measured(id, f, performance.now() - begun);
        this.suspected.delete(id);
        return r;
      } finally {
        signal.removeEventListener('abort', cancel);
        stop.abort();
      }
    });
    return run.then(
      (r) => {
        if (r.output.length !== f.built.output.bytes) {
          const e = new RunError(f.plan.id, id, `RESULT has ${r.output.length} bytes, the box needs ${f.built.output.bytes}`);
          record('failed', 0, e.message);
          throw e;
        }
        this.highWater.set(id, Math.max(this.highWater.get(id) ?? 0, r.highWater));
        record('ok', r.output.length);
        return r.output;
      },
      (e: unknown) => {
        const cancelled = e instanceof DeviceError && e.code === 'CANCELED' && signal.aborted;
        record(cancelled ? 'cancelled' : e instanceof DeviceError && e.code === 'TIMEOUT' ? 'timeout' : 'failed', 0, (e as Error).message);
        if (isDeviceLoss(e)) this.markUnhealthy(id, (e as Error).message);
        else if (cancelled && client.stats.framesIn === framesBefore) void this.checkAlive(id, client, timeoutMs);
        throw e;
      },
    );
  }

  /**
   * The watchdog of one RUN (see attempt). A suspected device whose PING
   * stays unanswered for the RUN's hard deadline is marked unhealthy, even if
   * a rival already finished the fragment; the returned promise then rejects
   * with a lost-device error unless `stop` was aborted, and never settles
   * otherwise.
   */
  private watch(id: string, client: DeviceClient, f: DeployedFragment, stop: AbortController, suspect: () => void): Promise<never> {
    return new Promise<never>((_, reject) => {
      const loop = async () => {
        while (!stop.signal.aborted) {
          await sleep(1.5 * this.expectedMs(id, f) + this.probeMs(id), undefined, { signal: stop.signal, ref: false });
          const bytesBefore = client.stats.bytesIn;
          const ping = client.ping().then(
            () => 'alive' as const,
            () => 'lost' as const,
          );
          const quick = await Promise.race([ping, sleep(this.probeMs(id), 'silent' as const, { signal: stop.signal, ref: false })]);
          if (quick === 'alive' || client.stats.bytesIn > bytesBefore) continue;
          this.suspected.add(id);
          this.log(`device ${id} silent for ${this.probeMs(id)} ms while running fragment ${f.plan.id} past 1.5x its expected time`);
          suspect();
          const waitMs = this.timeoutMs(id, f);
          const verdict = await Promise.race([ping, sleep(waitMs, 'lost' as const, { ref: false })]);
          if (verdict === 'alive') {
            this.suspected.delete(id);
            continue;
          }
          const e = new DeviceError(id, 'TIMEOUT', `no answer to PING within ${waitMs} ms during a RUN of fragment ${f.plan.id}`);
          this.markUnhealthy(id, e.message);
          reject(e);
          return;
        }
      };
      loop().catch(() => undefined);
    });
  }

  /**
   * A replica cancelled before it sent a single frame may be gone (crashed or
   * hung): losing every race, it would never time out. It is marked
   * unhealthy unless it answers a PING within `ms`.
   */
  private async checkAlive(id: string, client: DeviceClient, ms: number): Promise<void> {
    if (this.checking.has(id) || this.unhealthy.has(id)) return;
    this.checking.add(id);
    // A PING failing for another reason than a lost device (the session closing) proves nothing.
    const ping = client.ping().then(
      () => 'alive',
      (e: unknown) => (isDeviceLoss(e) ? 'lost' : 'unknown'),
    );
    const verdict = await Promise.race([ping, sleep(ms, 'lost', { ref: false })]);
    this.checking.delete(id);
    if (verdict === 'lost') this.markUnhealthy(id, `no answer to PING within ${ms} ms after a cancelled RUN`);
  }

  private store(f: DeployedFragment, values: (TensorData | undefined)[], bytes: Uint8Array): void {
    const g = this.graph;
    const { tensor, box } = f.built.output;
    const T = ARRAY[g.tensors[tensor].dtype];
    const copy = bytes.slice();
    const data = new T(copy.buffer, 0, copy.length / DTYPE_BYTES[g.tensors[tensor].dtype]);
    insertBox(values[tensor]!, outputView(g, f.plan.ops[f.plan.ops.length - 1].op), box, data);
  }
}
