// Turns a plan fragment (ops with output boxes and input tiles) into the blob
// a LOAD carries: per op its kernel record with only its channels' weights,
// and a call block whose activation offsets come from the planner's layout,
// so the arena the device reserves is the one the plan counted.
import { describe, wholeDepth } from '../abi/ops/table.ts';
import { fragmentDigest, packFragment, type FragmentOp } from '../abi/fragment-blob.ts';
import { DTYPE_BYTES, type Graph } from '../model/ir.ts';
import { box4, isKernelOp, packCall, packOp, tile4, type TileRef } from '../abi/kernel-abi.ts';
import { prepareOp } from '../model/op-params.ts';
import { wholeOutputBox } from '../model/oracle.ts';
import { fullBox } from '../model/oracle/tile.ts';
import { fragmentLayout } from '../plan/layout.ts';
import type { PlanFragment } from '../plan/plan-file.ts';
import { boxShape, type Box } from './boxes.ts';

export interface BuiltFragment {
  id: string;
  blob: Uint8Array;
  digest: Uint8Array;
  /** Activation bytes the device must reserve (the plan's number). */
  arena: number;
  /** The tiles a RUN carries, concatenated in this order. */
  inputs: { tensor: number; box: Box; bytes: number }[];
  /** The box a RESULT carries. */
  output: { tensor: number; box: Box; bytes: number };
}

export function buildFragment(g: Graph, f: PlanFragment): BuiltFragment {
  const layout = fragmentLayout(g, f.ops);
  const ops: FragmentOp[] = f.ops.map((ob, j) => {
    const p = prepareOp(g, ob.op);
    if (!isKernelOp(p)) throw new Error(`fragment ${f.id}: op ${ob.op} (${p.kind}) runs on the gateway, not on a device`);
    const record = packOp(p, describe(p).slice?.(p, ob.out) ?? {});
    const tiles: TileRef[] = ob.tiles.flatMap((t, k) => {
      if (!t) return [];
      const offset = j === 0 ? layout.inputOffsets[k] : layout.outputOffsets[j - 1];
      return [{ offset, ...tile4(p, k, t.start, boxShape(t)) }];
    });
    const call = packCall({
      out: layout.outputOffsets[j],
      outBytes: layout.outputBytes[j],
      box: box4(p, ob.out),
      in0: tiles[0],
      in1: tiles[1],
      // An op that sums an input depth (FC) sums all of it: plans split FC by neurons only.
      depth: wholeDepth(p),
    });
    return { record, call };
  });
  const lastOp = f.ops[f.ops.length - 1];
  const outTensor = g.ops[lastOp.op].outputs[0];
  const outBytes = layout.outputBytes[f.ops.length - 1];
  const inBytes = layout.inputBytes.reduce((a, b) => a + b, 0);
  const blob = packFragment({
    ops,
    input: { offset: layout.inputOffsets[0], bytes: inBytes },
    output: { offset: layout.outputOffsets[f.ops.length - 1], bytes: outBytes },
  });
  const first = g.ops[f.ops[0].op];
  const inputs = f.ops[0].tiles.flatMap((t, k) => (t ? [{ tensor: first.inputs[k], box: t, bytes: layout.inputBytes[k] }] : []));
  return {
    id: f.id,
    blob,
    digest: fragmentDigest(blob),
    arena: layout.highWater,
    inputs,
    output: { tensor: outTensor, box: lastOp.out, bytes: outBytes },
  };
}

/** A fragment holding op `i` of `g` whole, on its whole inputs (one op run alone on `device`). */
export function wholeOpFragment(g: Graph, i: number, device: string): PlanFragment {
  return wholeOpsFragment(g, [i], device, `op${i}`);
}

/** A fragment holding consecutive ops of `g` whole, each on its whole inputs, run on `device`. */
export function wholeOpsFragment(g: Graph, ops: readonly number[], device: string, id: string): PlanFragment {
  const out = g.ops[ops[ops.length - 1]].outputs[0];
  return {
    id,
    stage: 0,
    ops: ops.map((i) => {
      const params = prepareOp(g, i);
      const space = (t: number) => describe(params).inputView(params, params.inputs.indexOf(t));
      return { op: i, out: wholeOutputBox(params), tiles: g.ops[i].inputs.map((t) => (params.inputs.includes(t) ? fullBox(space(t)) : null)) };
    }),
    inputs: [],
    output: { tensor: out, box: fullBox(g.tensors[out].shape) },
    devices: [device],
    forwards: [],
    macs: 0,
    paramBytes: 0,
    activationBytes: 0,
    inBytes: 0,
    outBytes: 0,
    predicted: { start: 0, end: 0 },
  };
}

/** Bytes of a box of tensor `t`'s elements. */
export function boxBytes(g: Graph, tensor: number, box: Box): number {
  return boxShape(box).reduce((a, b) => a * b, 1) * DTYPE_BYTES[g.tensors[tensor].dtype];
}
