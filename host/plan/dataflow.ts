// Dataflow order of a plan: a fragment may start as soon as the boxes its
// input tiles overlap have come back, not when the whole previous stage is
// stitched. The executor runs fragments in this order and the cost model
// schedules them the same way, so predictions follow what runs.
//
// A unit is a device fragment or a gateway stage (a copy the gateway makes at
// once when its inputs are whole). A fragment depends on every earlier unit
// that wrote part of a tensor its tiles read, where the written box and the
// tile overlap; boxes in different views of a tensor (FULLY_CONNECTED's
// [batches, depth] against a conv's [N, H, W, C]) are not compared, the
// dependency is kept. A gateway stage depends on every writer of its inputs.
import type { Graph } from '../model/ir.ts';
import { inputView, outputView, type OpBox } from './fragments.ts';

/** What dataflow needs of a stage: its ops, where they run, its fragments' ops. */
export interface FlowStage {
  ops: readonly number[];
  gateway: boolean;
  fragments: readonly { ops: readonly OpBox[] }[];
}

export interface Unit {
  stage: number;
  /** Index of the fragment in its stage; undefined for a gateway stage. */
  fragment?: number;
  /** Units (indices into the list) that must finish first; all earlier in the list. */
  deps: number[];
}

interface Writer {
  unit: number;
  /** The box written and the view it is in; undefined: the whole tensor. */
  box?: { start: readonly number[]; end: readonly number[] };
  view?: readonly number[];
}

const sameView = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function overlaps(a: Writer['box'] & object, b: { start: readonly number[]; end: readonly number[] }): boolean {
  return a.start.every((s, i) => s < b.end[i] && b.start[i] < a.end[i]);
}

/** The plan's units in plan order, each with the units it waits for. */
export function dataflowUnits(g: Graph, stages: readonly FlowStage[]): Unit[] {
  const writers = new Map<number, Writer[]>();
  const units: Unit[] = [];
  const write = (tensor: number, w: Writer) => writers.set(tensor, [...(writers.get(tensor) ?? []), w]);
  stages.forEach((s, si) => {
    if (s.gateway) {
      const inside = new Set(s.ops.flatMap((op) => g.ops[op].outputs));
      const deps = new Set<number>();
      for (const op of s.ops)
        for (const t of g.ops[op].inputs) if (t >= 0 && !inside.has(t)) for (const w of writers.get(t) ?? []) deps.add(w.unit);
      const unit = units.push({ stage: si, deps: [...deps].sort((a, b) => a - b) }) - 1;
      for (const t of inside) write(t, { unit });
      return;
    }
    const made = s.fragments.map((f, fi) => {
      const first = f.ops[0];
      const deps = new Set<number>();
      first.tiles.forEach((tile, k) => {
        if (!tile) return;
        const t = g.ops[first.op].inputs[k];
        const view = k === 0 ? inputView(g, first.op) : g.tensors[t].shape;
        for (const w of writers.get(t) ?? []) if (!w.box || !w.view || !sameView(w.view, view) || overlaps(w.box, tile)) deps.add(w.unit);
      });
      return { stage: si, fragment: fi, deps: [...deps].sort((a, b) => a - b) };
    });
    // Writers of this stage are registered after its fragments read: no fragment waits for a sibling.
    s.fragments.forEach((f, fi) => {
      const last = f.ops[f.ops.length - 1];
      write(g.ops[last.op].outputs[0], { unit: units.length + fi, box: last.out, view: outputView(g, last.op) });
    });
    units.push(...made);
  });
  return units;
}
