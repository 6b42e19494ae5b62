// A deployment seen as an Engine: the same interface as the oracle and the
// in-process kernels, so `eval`, `conformance` and the tests can run a graph
// across devices without knowing it. Only the graph's outputs come back (the
// intermediate tensors stay on the devices' side of the stitching).
import type { Engine } from '../model/engine.ts';
import type { Graph, TensorData } from '../model/ir.ts';
import { RunError, type Executor } from './execute.ts';
import { replan, type DevicePool } from './replan.ts';
import type { ModelDeployment, SessionOptions } from './session.ts';

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

/**
 * A distributed engine that re-plans when a device is gone for good: when an
 * inference fails and the executor found devices unhealthy, the model is
 * planned again for the devices left, deployed, and the inference retried.
 */
export function replanningEngine(graph: Graph, pool: DevicePool, first: ModelDeployment, opts: SessionOptions = {}): Engine {
  let current: ModelDeployment = first;
  let currentPool = pool;
  return {
    name: `devices (${first.plan.strategy.name} plan, re-planned on loss)`,
    async runAll(g: Graph, inputs: TensorData[]) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await distributedEngine(current.executor).runAll(g, inputs);
        } catch (e) {
          if (!(e instanceof RunError) || current.executor.unhealthy.size === 0 || attempt >= pool.profiles.length) throw e;
          opts.log?.(`${e.message}; re-planning without ${[...current.executor.unhealthy].join(', ')}`);
          const next = await replan(graph, currentPool, current, opts);
          current = next;
          currentPool = next.pool;
        }
      }
    },
  };
}
