// `inspect`: how big must one device's arena be for a model, and how many
// devices of a given budget can run it. Per layer: op, shapes, MACs, weight
// bytes, live activation bytes; then the single-device peak, explained.
import { DTYPE_BYTES, numElements, tensorBytes, type Graph } from '../model/ir.ts';
import type { DeviceProfile } from './profiles.ts';
import { opMacs } from './cost.ts';
import { fullBox, outputView, runsOnGateway } from './fragments.ts';
import { modelParamBytes } from './layout.ts';
import { maxLiveBytes, planOffsets, type Buffer } from './offsets.ts';
import type { PlanRequest } from './assemble.ts';
import { searchMicrosplit } from './strategies/microsplit.ts';

export interface LayerReport {
  op: number;
  kind: string;
  inputs: number[][];
  output: number[];
  macs: number;
  /** Constant bytes in the model (weights and bias). */
  weightBytes: number;
  /** Bytes of activations live while this op runs (its inputs, its output, anything kept for later). */
  liveBytes: number;
  /** Runs on the gateway in a distributed plan (a copy). */
  gateway: boolean;
}

export interface InspectReport {
  model: string;
  layers: LayerReport[];
  /** The model's constants as stored (weights and biases). */
  weightBytes: number;
  /** What a device keeps resident for all ops: the LOAD blob (records, weight slices, per-channel constants). */
  paramBytes: number;
  /** Largest sum of live activations at one op, and that op. */
  maxLiveBytes: number;
  maxLiveOp: number;
  /** Activation arena the offset planner needs (>= maxLiveBytes). */
  activationBytes: number;
  /** Single-device peak: paramBytes + activationBytes. */
  peakBytes: number;
}

/** Activation tensors with their lifetimes in op steps: produced (or graph input: step 0) to last read (or graph output: the end). */
export function activationBuffers(g: Graph): (Buffer & { tensor: number })[] {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const t of g.inputs) first.set(t, 0);
  g.ops.forEach((op, i) => {
    for (const t of op.inputs) if (t >= 0 && !g.tensors[t].data) last.set(t, i);
    for (const t of op.outputs) first.set(t, i);
  });
  for (const t of g.outputs) last.set(t, g.ops.length - 1);
  return [...first].map(([tensor, f]) => ({ tensor, size: tensorBytes(g.tensors[tensor]), first: f, last: Math.max(f, last.get(tensor) ?? f) }));
}

export function inspectModel(g: Graph): InspectReport {
  const buffers = activationBuffers(g);
  const layers = g.ops.map((op, i): LayerReport => {
    const constBytes = op.inputs.reduce((s, t) => (t >= 0 && g.tensors[t].data ? s + numElements(g.tensors[t].shape) * DTYPE_BYTES[g.tensors[t].dtype] : s), 0);
    return {
      op: i,
      kind: op.kind,
      inputs: op.inputs.filter((t) => t >= 0 && !g.tensors[t].data).map((t) => g.tensors[t].shape),
      output: g.tensors[op.outputs[0]].shape,
      macs: runsOnGateway(g, i) ? 0 : opMacs(g, { op: i, out: fullBox(outputView(g, i)), tiles: [] }),
      weightBytes: constBytes,
      liveBytes: buffers.reduce((s, b) => s + (b.first <= i && i <= b.last ? b.size : 0), 0),
      gateway: runsOnGateway(g, i),
    };
  });
  const paramBytes = modelParamBytes(g);
  const activationBytes = planOffsets(buffers).highWater;
  const maxLive = maxLiveBytes(buffers);
  return {
    model: g.name ?? 'model',
    layers,
    weightBytes: layers.reduce((s, l) => s + l.weightBytes, 0),
    paramBytes,
    maxLiveBytes: maxLive,
    maxLiveOp: layers.findIndex((l) => l.liveBytes === maxLive),
    activationBytes,
    peakBytes: paramBytes + activationBytes,
  };
}

/**
 * The fewest devices like `like` (its budget, speed and link) on which the
 * microsplit planner finds a plan, trying from the parameter bound upwards;
 * null when even `limit` devices do not suffice.
 */
export function fewestDevices(g: Graph, like: DeviceProfile, params: number, limit = 64): number | null {
  const start = Math.max(1, Math.ceil(params / (like.budget - like.reservedBytes)));
  for (let n = start; n <= limit; n++) {
    const devices = Array.from({ length: n }, (_, i) => ({ ...like, id: `${like.id}${i}` }));
    const req: PlanRequest = { graph: g, model: { name: '', sha256: '' }, devices, lambda: 0 };
    if (searchMicrosplit(req, devices).feasible) return n;
  }
  return null;
}
