// Where a fragment's activations live in the device's activation region. The
// planner counts these bytes and the executor packs these offsets into the
// fragment, so both come from this one function.
//
// The first op's input tiles are one contiguous block (a RUN carries them
// concatenated), then every op's output box is placed by the greedy offset
// planner with its lifetime: op i's output lives from step i until op i+1 has
// read it.
import { blobBytes } from '../abi/fragment-blob.ts';
import { DTYPE_BYTES, type Graph } from '../model/ir.ts';
import { describe } from '../abi/ops/table.ts';
import { recordBytes } from '../abi/record.ts';
import { geometryOf } from '../model/ops/table.ts';
import { boxVolume, fullBox, fuseBackward, outputView, runsOnGateway, type OpBox } from './fragments.ts';
import { planOffsets, type Buffer } from './offsets.ts';

export interface FragmentLayout {
  /** Per input slot of the first op: offset of its tile (-1 when the slot has no tile). */
  inputOffsets: number[];
  inputBytes: number[];
  /** Per op: offset and bytes of its output box. */
  outputOffsets: number[];
  outputBytes: number[];
  /** Activation bytes the fragment needs. */
  highWater: number;
}

export function fragmentLayout(g: Graph, ops: readonly OpBox[]): FragmentLayout {
  const bytes = (tensor: number, box: Parameters<typeof boxVolume>[0]) => boxVolume(box) * DTYPE_BYTES[g.tensors[tensor].dtype];
  const first = g.ops[ops[0].op];
  const inputBytes = ops[0].tiles.map((t, k) => (t ? bytes(first.inputs[k], t) : 0));
  const outputBytes = ops.map((ob) => bytes(g.ops[ob.op].outputs[0], ob.out));
  const buffers: Buffer[] = [
    { size: inputBytes.reduce((a, b) => a + b, 0), first: 0, last: 0 },
    ...outputBytes.map((size, i) => ({ size, first: i, last: i === ops.length - 1 ? i : i + 1 })),
  ];
  const plan = planOffsets(buffers);
  let at = plan.offsets[0];
  const inputOffsets = inputBytes.map((b, k) => {
    if (!ops[0].tiles[k]) return -1;
    const o = at;
    at += b;
    return o;
  });
  return { inputOffsets, inputBytes, outputOffsets: plan.offsets.slice(1), outputBytes, highWater: plan.highWater };
}

/** Channels of an op's output box and the weight bytes of that slice (0, 0 for ops without weights). */
function weightSlice(g: Graph, ob: OpBox): [number, number] {
  const o = geometryOf(g, ob.op);
  const perChannel = describe(o).weightsPerChannel(o);
  if (perChannel === 0) return [0, 0];
  const last = ob.out.start.length - 1;
  const n = ob.out.end[last] - ob.out.start[last];
  return [n, n * perChannel];
}

/**
 * Resident bytes of a fragment on its device: exactly the blob a LOAD
 * carries (records with the weight slices, call blocks, header), which is
 * what the agent keeps in its arena.
 */
export function fragmentParamBytes(g: Graph, ops: readonly OpBox[]): number {
  return blobBytes(ops.map((ob) => recordBytes(...weightSlice(g, ob))));
}

/**
 * What one device running every device op whole keeps resident: a lower
 * bound on the parameter bytes of any plan (splits only add records).
 */
export function modelParamBytes(g: Graph): number {
  const ops = g.ops.flatMap((_, i) => (runsOnGateway(g, i) ? [] : [fuseBackward(g, [i], fullBox(outputView(g, i)))[0]]));
  return ops.length ? fragmentParamBytes(g, ops) : 0;
}

/** Activation bytes a fragment reserves (the agent rounds to 8). */
export function fragmentActivationBytes(g: Graph, ops: readonly OpBox[]): number {
  return align8(fragmentLayout(g, ops).highWater);
}

const align8 = (n: number) => (n + 7) & ~7;
