// What runs a graph: the oracle (plain TypeScript), the AS kernels in this
// process (wasm), or a device over a link. Conformance, `infer` and the tests
// speak to all of them through this one interface.
import type { Graph, TensorData } from './ir.ts';

export interface Engine {
  readonly name: string;
  /**
   * Runs the whole graph on `inputs` (one per graph input, in order) and
   * returns the value of every tensor the graph computes, indexed by tensor
   * id (constants and unused slots are undefined).
   */
  runAll(graph: Graph, inputs: TensorData[]): Promise<(TensorData | undefined)[]>;
}

/** Runs the graph and returns only its outputs, in order. */
export async function runGraph(engine: Engine, graph: Graph, inputs: TensorData[]): Promise<TensorData[]> {
  const all = await engine.runAll(graph, inputs);
  return graph.outputs.map((id) => {
    const v = all[id];
    if (!v) throw new Error(`${engine.name}: graph output tensor ${id} (${graph.tensors[id].name}) was not computed`);
    return v;
  });
}
