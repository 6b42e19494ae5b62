// Shared by the planner tests: run a plan fragment by fragment with the
// oracle (tiles with halos, fused stages, gateway copies), and check a plan's
// structural invariants.
import { numElements, type DType, type Graph, type TensorData } from '../host/model/ir.ts';
import { prepareOp } from '../host/model/op-params.ts';
import { runOpBox, wholeOutputBox, type Box, type Tile } from '../host/model/oracle.ts';
import { boxShape, extractBox, insertBox } from '../host/run/boxes.ts';
import { boxVolume, inputView, outputView } from '../host/plan/fragments.ts';
import { dataflowUnits } from '../host/plan/dataflow.ts';
import type { Plan } from '../host/plan/plan-file.ts';

const ARRAY_OF: Record<DType, new (n: number) => TensorData> = { int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array };
const sameBox = (a: Box, b: Box) => a.start.join() === b.start.join() && a.end.join() === b.end.join();

/** The shape an op's input slot k is tiled in (FC's first input: [batches, depth]). */
function tileView(g: Graph, op: number, k: number): number[] {
  return k === 0 ? inputView(g, op) : g.tensors[g.ops[op].inputs[k]].shape;
}

type Values = (TensorData | undefined)[];

function runGatewayStage(g: Graph, ops: readonly number[], values: Values): void {
  for (const op of ops) {
    const p = prepareOp(g, op);
    const tiles = p.inputs.map((id): Tile => ({ data: values[id]!, origin: g.tensors[id].shape.map(() => 0), shape: g.tensors[id].shape }));
    values[p.output] = runOpBox(p, tiles, wholeOutputBox(p));
  }
}

/** Runs one fragment from tiles cut out of `values`; stitches its output box into `into`. */
function runFragmentWithOracle(g: Graph, f: Plan['stages'][number]['fragments'][number], values: Values, into: Values): void {
  const local = new Map<number, { data: TensorData; box: Box }>();
  for (const ob of f.ops) {
    const op = g.ops[ob.op];
    const p = prepareOp(g, ob.op);
    const tiles = p.inputs.map((id): Tile => {
      const k = op.inputs.indexOf(id);
      const box = ob.tiles[k];
      if (!box) throw new Error(`fragment ${f.id}: op ${ob.op} has no tile for input ${id}`);
      const inside = local.get(id);
      if (inside) {
        if (!sameBox(inside.box, box)) throw new Error(`fragment ${f.id}: op ${ob.op} reads a box its predecessor did not compute`);
        return { data: inside.data, origin: box.start, shape: boxShape(box) };
      }
      return { data: extractBox(values[id]!, tileView(g, ob.op, k), box), origin: box.start, shape: boxShape(box) };
    });
    local.set(op.outputs[0], { data: runOpBox(p, tiles, ob.out), box: ob.out });
  }
  const out = f.output.tensor;
  const t = g.tensors[out];
  into[out] ??= new ARRAY_OF[t.dtype](numElements(t.shape));
  insertBox(into[out]!, outputView(g, f.ops[f.ops.length - 1].op), f.output.box, local.get(out)!.data);
}

/**
 * Executes `plan` as the gateway would: gateway ops whole, each fragment from
 * tiles cut out of stitched tensors, its fused ops in order on local boxes,
 * its output box stitched back. Returns every tensor's value.
 */
export function runPlanWithOracle(g: Graph, plan: Plan, inputs: TensorData[]): Values {
  const values: Values = g.tensors.map((t) => t.data);
  g.inputs.forEach((id, k) => (values[id] = inputs[k]));
  for (const stage of plan.stages) {
    if (stage.where === 'gateway') {
      runGatewayStage(g, stage.ops, values);
      continue;
    }
    const produced: Values = [];
    for (const f of stage.fragments) runFragmentWithOracle(g, f, values, produced);
    // Stitched tensors become visible only when the stage is done, as on the gateway.
    produced.forEach((v, id) => v && (values[id] = v));
  }
  return values;
}

/**
 * Executes `plan` in dataflow order (host/plan/dataflow.ts) as adversarially
 * as it allows: of the units whose dependencies are done, the last in plan
 * order runs first, and every box is visible the moment it is stitched into
 * tensors that start as zeros. A dependency the dataflow missed makes a
 * fragment read zeros, and the result differs from the oracle's.
 */
export function runPlanDataflow(g: Graph, plan: Plan, inputs: TensorData[]): Values {
  const values: Values = g.tensors.map((t) => t.data);
  g.inputs.forEach((id, k) => (values[id] = inputs[k]));
  const units = dataflowUnits(
    g,
    plan.stages.map((s) => ({ ops: s.ops, gateway: s.where === 'gateway', fragments: s.fragments })),
  );
  const done = new Set<number>();
  while (done.size < units.length) {
    let next = -1;
    units.forEach((u, i) => {
      if (!done.has(i) && u.deps.every((d) => done.has(d))) next = i;
    });
    if (next < 0) throw new Error('dataflow units wait on each other');
    const u = units[next];
    const stage = plan.stages[u.stage];
    if (u.fragment === undefined) runGatewayStage(g, stage.ops, values);
    else runFragmentWithOracle(g, stage.fragments[u.fragment], values, values);
    done.add(next);
  }
  return values;
}

/** Every op in exactly one stage, in order; each device stage's boxes tile its output exactly once. */
export function coverageProblems(g: Graph, plan: Plan): string[] {
  const problems: string[] = [];
  const ops = plan.stages.flatMap((s) => s.ops);
  if (ops.join() !== g.ops.map((_, i) => i).join()) problems.push(`stages cover ops [${ops}]`);
  for (const s of plan.stages) {
    if (s.where === 'gateway') continue;
    const view = outputView(g, s.ops[s.ops.length - 1]);
    const boxes = s.fragments.map((f) => f.output.box);
    const total = boxes.reduce((a, b) => a + boxVolume(b), 0);
    if (total !== numElements(view)) problems.push(`stage ${s.index}: boxes hold ${total} of ${numElements(view)} values`);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++)
        if (boxes[i].start.every((lo, a) => lo < boxes[j].end[a] && boxes[j].start[a] < boxes[i].end[a]))
          problems.push(`stage ${s.index}: fragments ${i} and ${j} overlap`);
  }
  return problems;
}

/** A deterministic int8 input for a graph's first input. */
export function int8Input(g: Graph, seed: number): Int8Array {
  const n = numElements(g.tensors[g.inputs[0]].shape);
  return Int8Array.from({ length: n }, (_, i) => ((i * 37 + seed * 101) % 256) - 128);
}
