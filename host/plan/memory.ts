// Exact memory accounting of every device: its memory map, peak and shortfall.
//
// Byte formula (the device agent's arena accounting agrees with it, tested):
//   a device's peak = reservedBytes                       (the agent's own share of the budget)
//                   + Σ over its fragments of paramBytes  (resident from LOAD until undeployed)
//                   + max over its fragments of the activation high-water
// paramBytes of a fragment is exactly the blob its LOAD carries
// (layout.ts fragmentParamBytes): per op a 256-byte record with, for conv,
// depthwise and FC, the weight slice of its output channels and four int32
// arrays per channel (bias, folded bias, multiplier, shift), a 128-byte call
// block, and the blob header.
// Activations of a fragment: its input tiles (halo included, one block), every
// intermediate box of a fused stack and its output box, each as
// box elements x dtype bytes, placed by offsets.ts's `planOffsets` through
// layout.ts's fragmentLayout (the executor packs the same offsets). Fragments
// on one device run one at a time, so their activation areas share offsets.
import type { Graph } from '../model/ir.ts';
import type { OpBox } from './fragments.ts';
import { fragmentActivationBytes, fragmentLayout, fragmentParamBytes } from './layout.ts';
import { usableBytes, type DeviceProfile } from './profiles.ts';

/** One region of a device's arena. */
export interface Region {
  fragment: string;
  what: string;
  offset: number;
  size: number;
}

export interface DeviceMemory {
  device: string;
  budget: number;
  reserved: number;
  paramBytes: number;
  activationBytes: number;
  peak: number;
  /** Offsets relative to the arena start (after the reserved bytes): activations from 0 up, parameters from the top down. */
  regions: Region[];
}

const tensorName = (g: Graph, t: number) => g.tensors[t].name || `t${t}`;

/** What memory needs to know of a fragment placed on a device. */
export interface PlacedFragment {
  id: string;
  ops: OpBox[];
}

/** The memory map and peak of one device holding `fragments`. */
export function deviceMemory(g: Graph, device: DeviceProfile, fragments: readonly PlacedFragment[]): DeviceMemory {
  const regions: Region[] = [];
  let activationBytes = 0;
  let paramBytes = 0;
  const arena = usableBytes(device);
  for (const f of fragments) {
    const layout = fragmentLayout(g, f.ops);
    const first = g.ops[f.ops[0].op];
    layout.inputOffsets.forEach((offset, k) => {
      if (offset >= 0) regions.push({ fragment: f.id, what: `input ${tensorName(g, first.inputs[k])}`, offset, size: layout.inputBytes[k] });
    });
    f.ops.forEach((ob, i) => {
      const role = i === f.ops.length - 1 ? 'output' : 'intermediate';
      regions.push({ fragment: f.id, what: `${role} ${tensorName(g, g.ops[ob.op].outputs[0])}`, offset: layout.outputOffsets[i], size: layout.outputBytes[i] });
    });
    activationBytes = Math.max(activationBytes, fragmentActivationBytes(g, f.ops));
    const size = fragmentParamBytes(g, f.ops);
    paramBytes += size;
    regions.push({ fragment: f.id, what: `params (LOAD blob, ops ${f.ops.map((ob) => ob.op).join(',')})`, offset: arena - paramBytes, size });
  }
  return {
    device: device.id,
    budget: device.budget,
    reserved: device.reservedBytes,
    paramBytes,
    activationBytes,
    peak: device.reservedBytes + paramBytes + activationBytes,
    regions,
  };
}

/** A text diagram of a device's arena: one line per region, a bar scaled to the budget. */
export function memoryDiagram(m: DeviceMemory, width = 40): string {
  const scale = width / Math.max(1, m.budget - m.reserved);
  const lines = [`${m.device}: peak ${m.peak} of ${m.budget} bytes (reserved ${m.reserved}, params ${m.paramBytes}, activations ${m.activationBytes})`];
  for (const r of [...m.regions].sort((a, b) => a.offset - b.offset)) {
    const from = Math.floor(r.offset * scale);
    const len = Math.max(1, Math.round(r.size * scale));
    const bar = ' '.repeat(Math.min(width, from)) + '#'.repeat(Math.max(0, Math.min(len, width - from)));
    lines.push(`  |${bar.padEnd(width)}| ${String(r.offset).padStart(7)} +${String(r.size).padEnd(7)} ${r.fragment} ${r.what}`);
  }
  return lines.join('\n');
}

/** No placement of the request fits: names the worst device and the smallest fix found. */
export class InfeasibleError extends Error {
  constructor(
    message: string,
    readonly device?: string,
    readonly bytesShort?: number,
  ) {
    super(message);
    this.name = 'InfeasibleError';
  }
}

/** Device whose peak exceeds its budget the most, or null when all fit. */
export function worstShortfall(memory: readonly DeviceMemory[]): { device: string; short: number } | null {
  let worst: { device: string; short: number } | null = null;
  for (const m of memory) {
    const short = m.peak - m.budget;
    if (short > 0 && (!worst || short > worst.short)) worst = { device: m.device, short };
  }
  return worst;
}

/**
 * Kinds of device present, one representative each, smallest budget first (to
 * suggest the cheapest addition). Devices without a `kind` are grouped by budget.
 */
export function deviceKinds(devices: readonly DeviceProfile[]): DeviceProfile[] {
  const byKind = new Map<string, DeviceProfile>();
  for (const d of devices) {
    const k = d.kind ?? `budget ${d.budget}`;
    if (!byKind.has(k)) byKind.set(k, d);
  }
  return [...byKind.values()].sort((a, b) => a.budget - b.budget);
}
