// One gateway session over a set of devices: connect to each (HELLO with
// retries), plan the model for them, deploy, and hand back an executor. Used
// by `microsplit run`, `demo`, `eval --testbed` and the end-to-end tests.
import type { DeviceClient } from '../link/client.ts';
import type { Graph } from '../model/ir.ts';
import type { PlanRequest } from '../plan/assemble.ts';
import { graphHash, type Plan } from '../plan/plan-file.ts';
import type { DeviceProfile } from '../plan/profiles.ts';
import { strategies } from '../plan/strategies/index.ts';
import { startTestbed, type RunningTestbed } from '../sim/launcher.ts';
import { loadTestbed, parseTestbed, type Testbed } from '../sim/testbed.ts';
import { connectAll } from './connect.ts';
import { deploy, type DeployOptions, type Deployment } from './deploy.ts';
import { Executor, type ExecuteOptions } from './execute.ts';
import { testbedProfiles } from './testbed-profiles.ts';

export interface PlanChoice {
  strategy?: string;
  lambda?: number;
  epsilon?: number;
  replicas?: number;
}

export async function makePlan(graph: Graph, devices: DeviceProfile[], choice: PlanChoice = {}, name = graph.name ?? 'model'): Promise<Plan> {
  const strategy = strategies[choice.strategy ?? 'microsplit'];
  if (!strategy) throw new Error(`unknown strategy "${choice.strategy}" (known: ${Object.keys(strategies).join(', ')})`);
  const req: PlanRequest = {
    graph,
    model: { name, sha256: graphHash(graph) },
    devices,
    lambda: choice.lambda ?? 0,
    epsilon: choice.epsilon,
    replicas: choice.replicas,
  };
  return strategy.plan(req);
}

export interface TestbedSession {
  testbed: RunningTestbed;
  profiles: DeviceProfile[];
  clients: Map<string, DeviceClient>;
  plan: Plan;
  deployment: Deployment;
  executor: Executor;
  close(): Promise<void>;
}

export interface SessionOptions extends PlanChoice {
  log?: (line: string) => void;
  deploy?: DeployOptions;
  execute?: ExecuteOptions;
}

/** Starts a testbed's simulated devices, plans, deploys; close() stops everything. */
export async function startSession(graph: Graph, testbed: string | Testbed, opts: SessionOptions = {}): Promise<TestbedSession> {
  const tb = typeof testbed === 'string' ? loadTestbed(testbed) : parseTestbed(testbed);
  const running = await startTestbed(tb, { log: opts.log });
  let clients = new Map<string, DeviceClient>();
  const close = async () => {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
    await running.stop();
  };
  try {
    const profiles = testbedProfiles(tb);
    const plan = await makePlan(graph, profiles, opts);
    clients = await connectAll(running.devices);
    const deployment = await deploy(graph, plan, clients, opts.deploy);
    const executor = new Executor(deployment, { log: opts.log, ...opts.execute });
    return { testbed: running, profiles, clients, plan, deployment, executor, close };
  } catch (e) {
    await close();
    throw e;
  }
}
