// Running inferences on a deployment: stage by stage, the gateway cuts each
// fragment's input tiles (halo included) out of the tensors it holds, sends
// them, and stitches the returned boxes. Replicated fragments race and the
// losers are cancelled (RoCoIn); when every device assigned a fragment has
// timed out or dropped, the gateway re-dispatches it to a healthy device that
// holds it or has room to load it (devices do not pull work themselves). A
// result is used only when its size is right; what cannot complete fails in
// bounded time, naming the fragment and the device.
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceError, type DeviceClient } from '../link/client.ts';
import { DTYPE_BYTES, numElements, type DType, type Graph, type TensorData } from '../model/ir.ts';
import { prepareOp } from '../model/op-params.ts';
import { runOpBox, wholeOutputBox } from '../model/oracle.ts';
import { inputView, outputView } from '../plan/fragments.ts';
import type { Plan, PlanStage } from '../plan/plan-file.ts';
import { extractBox, insertBox } from './boxes.ts';
import type { DeployedFragment, Deployment } from './deploy.ts';
import { Trace } from './trace.ts';

type ArrayType = { new (n: number): TensorData; new (buf: ArrayBuffer, offset: number, length: number): TensorData };
const ARRAY: Record<DType, ArrayType> = { int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };

export interface ExecuteOptions {
  /** Timeout of a fragment = margin x its predicted duration, at least minTimeoutMs. */
  timeoutMargin?: number;
  minTimeoutMs?: number;
  trace?: Trace;
  /** One line per notable event (a device marked unhealthy, a re-dispatch). */
  log?: (line: string) => void;
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

/** Device failures worth re-dispatching; anything else would fail the same way elsewhere. */
function isDeviceLoss(e: unknown): boolean {
  return e instanceof DeviceError && (e.code === 'TIMEOUT' || e.code === 'DISCONNECTED');
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
  private readonly t0 = performance.now();
  private readonly margin: number;
  private readonly minTimeoutMs: number;
  /** Extra fragments devices loaded to take over work, with their bytes. */
  private readonly extra = new Map<string, { params: number; act: number }>();
  private readonly log: (line: string) => void;
  private readonly lanes = new Map<string, Promise<unknown>>();
  /** Devices being PINGed after a silent cancelled run. */
  private readonly checking = new Set<string>();

  constructor(
    readonly dep: Deployment,
    opts: ExecuteOptions = {},
  ) {
    this.trace = opts.trace ?? new Trace();
    this.margin = opts.timeoutMargin ?? 4;
    this.minTimeoutMs = opts.minTimeoutMs ?? 2000;
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
    for (const stage of this.plan.stages) {
      if (stage.where === 'gateway') this.runOnGateway(stage, values);
      else await this.runStage(stage, values, index);
    }
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

  private async runStage(stage: PlanStage, values: (TensorData | undefined)[], index: number): Promise<void> {
    const g = this.graph;
    const frags = this.dep.fragments.filter((f) => f.stage === stage.index);
    for (const f of frags) {
      const t = f.built.output.tensor;
      values[t] ??= new ARRAY[g.tensors[t].dtype](numElements(g.tensors[t].shape));
    }
    await Promise.all(frags.map((f) => this.runFragment(f, values, index)));
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

  private timeoutMs(f: DeployedFragment): number {
    const predictedMs = (f.plan.predicted.end - f.plan.predicted.start) * 1000;
    return Math.max(this.minTimeoutMs, Math.ceil(predictedMs * this.margin));
  }

  /** Devices that may take over `f`: healthy, not yet tried, holding it first, then those with room to load it. */
  private candidates(f: DeployedFragment, tried: Set<string>): string[] {
    const ids = [...this.dep.clients.keys()].filter((id) => !this.unhealthy.has(id) && !tried.has(id));
    const holding = ids.filter((id) => this.dep.holds.get(id)?.has(f.num));
    const roomy = ids.filter((id) => !holding.includes(id) && this.hasRoom(id, f));
    return [...holding, ...roomy];
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

  private async runFragment(f: DeployedFragment, values: (TensorData | undefined)[], index: number): Promise<void> {
    const input = this.inputBytes(f, values);
    const tried = new Set<string>();
    let lastError = '';
    let lastDevice = f.plan.devices[0];
    let group = f.plan.devices.filter((d) => !this.unhealthy.has(d));
    for (;;) {
      if (group.length === 0) {
        let next: string | undefined;
        for (const id of this.candidates(f, tried)) {
          if (this.dep.holds.get(id)?.has(f.num) || (await this.loadOnto(id, f))) {
            next = id;
            break;
          }
          tried.add(id);
        }
        if (!next)
          throw new RunError(f.plan.id, lastDevice, `${lastError || 'every assigned device is unhealthy'}; no healthy device holds the fragment or has room to load it`);
        this.log(`fragment ${f.plan.id} re-dispatched to ${next}`);
        group = [next];
      }
      group.forEach((d) => tried.add(d));
      try {
        const result = await this.race(f, group, input, index);
        this.store(f, values, result);
        return;
      } catch (e) {
        if (!(e instanceof AggregateError) || !e.errors.every(isDeviceLoss)) throw e instanceof AggregateError ? e.errors[0] : e;
        lastDevice = group[group.length - 1];
        lastError = (e.errors[e.errors.length - 1] as Error).message;
        group = [];
      }
    }
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
   */
  private inLane<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.lanes.get(id) ?? Promise.resolve()).then(fn, fn);
    this.lanes.set(
      id,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Sends the fragment to every device of the group; the first valid result wins, the others are cancelled. */
  private race(f: DeployedFragment, group: string[], input: Uint8Array, index: number): Promise<Uint8Array> {
    const timeoutMs = this.timeoutMs(f);
    const predictedMs = (f.plan.predicted.end - f.plan.predicted.start) * 1000;
    const abort = new AbortController();
    const attempts = group.map(async (id) => {
      const client: DeviceClient = this.dep.clients.get(id)!;
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
          bytesIn: input.length,
          bytesOut,
          retries: client.stats.retransmits - retransmitsBefore,
          predictedMs,
          outcome,
          detail,
        });
      try {
        const r = await this.inLane(id, () => client.run(f.num, input, { timeoutMs, signal: abort.signal }));
        if (r.output.length !== f.built.output.bytes)
          throw new RunError(f.plan.id, id, `RESULT has ${r.output.length} bytes, the box needs ${f.built.output.bytes}`);
        this.highWater.set(id, Math.max(this.highWater.get(id) ?? 0, r.highWater));
        record('ok', r.output.length);
        abort.abort();
        return r.output;
      } catch (e) {
        const cancelled = e instanceof DeviceError && e.code === 'CANCELED' && abort.signal.aborted;
        record(cancelled ? 'cancelled' : e instanceof DeviceError && e.code === 'TIMEOUT' ? 'timeout' : 'failed', 0, (e as Error).message);
        if (isDeviceLoss(e)) this.markUnhealthy(id, (e as Error).message);
        else if (cancelled && client.stats.framesIn === framesBefore) void this.checkAlive(id, client, timeoutMs);
        throw e;
      }
    });
    return Promise.any(attempts);
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
