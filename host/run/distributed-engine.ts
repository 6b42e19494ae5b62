// A deployment seen as an Engine: the same interface as the oracle and the
// in-process kernels, so `eval`, `conformance` and the tests can run a graph
// across devices without knowing it. Only the graph's outputs come back (the
// intermediate tensors stay on the devices' side of the stitching).
import type { Engine } from '../model/engine.ts';
import type { Graph, TensorData } from '../model/ir.ts';
import type { Executor } from './execute.ts';

export function distributedEngine(executor: Executor): Engine {
  return {
    name: `devices (${executor.plan.strategy.name} plan)`,
    async runAll(graph: Graph, inputs: TensorData[]) {
      if (graph !== executor.graph) throw new Error('this deployment runs another graph');
      const r = await executor.infer(inputs);
      const values: (TensorData | undefined)[] = new Array(graph.tensors.length);
      graph.outputs.forEach((id, k) => (values[id] = r.outputs[k]));
      return values;
    },
  };
}
