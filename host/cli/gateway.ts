// The steps `deploy`, `run` and `eval` share: load the model, open the
// devices, take or make the plan, and deploy it unless the devices already
// hold it.
import { readFileSync } from 'node:fs';
import type { Graph } from '../model/ir.ts';
import { loadModel } from '../model/load.ts';
import { graphHash, readPlan, sha256, type Plan } from '../plan/plan-file.ts';
import { attach, deploy, isDeployed, type Deployment } from '../run/deploy.ts';
import { Executor, type ExecuteOptions } from '../run/execute.ts';
import { makePlan } from '../run/session.ts';
import { planChoiceOf, type PlanChoiceFlags } from './plan-options.ts';
import { deployBars } from './progress.ts';
import { openTargets, type TargetFlags, type Targets } from './targets.ts';

export interface GatewayFlags extends TargetFlags, PlanChoiceFlags {
  model: string;
  plan?: string;
  progress: boolean;
  json?: boolean;
}

export interface Gateway {
  graph: Graph;
  targets: Targets;
  plan: Plan;
  deployment: Deployment;
  /** False when the devices already held the plan. */
  loaded: boolean;
  executor(opts?: ExecuteOptions): Executor;
  close(): Promise<void>;
}

/** The plan file must be for this model: its hash, or the graph's. */
function checkPlanModel(plan: Plan, modelFile: string, graph: Graph): void {
  const h = plan.model.sha256;
  if (h !== sha256(readFileSync(modelFile)) && h !== graphHash(graph))
    throw new Error(`the plan was made for model ${plan.model.name} (sha256 ${h.slice(0, 12)}...), not ${modelFile}`);
}

export async function openGateway(f: GatewayFlags, log: (line: string) => void): Promise<Gateway> {
  const graph = await loadModel(f.model);
  const planFromFile = f.plan ? readPlan(f.plan) : undefined;
  if (planFromFile) checkPlanModel(planFromFile, f.model, graph);
  const targets = await openTargets(f, log);
  try {
    const profiles = targets.profiles ?? planFromFile?.devices;
    if (!planFromFile && !profiles) throw new Error('no device profiles to plan with: give --plan FILE or --devices FILE');
    const plan = planFromFile ?? (await makePlan(graph, profiles!, planChoiceOf(f)));
    for (const d of plan.devices) if (!targets.clients.has(d.id)) throw new Error(`the plan uses device "${d.id}", which is not among the connected devices`);
    let deployment: Deployment;
    let loaded = false;
    if (await isDeployed(plan, targets.clients)) deployment = attach(graph, plan, targets.clients);
    else {
      const bars = deployBars(f.progress && !f.json);
      try {
        deployment = await deploy(graph, plan, targets.clients, { onProgress: bars.onProgress });
      } finally {
        bars.stop();
      }
      loaded = true;
    }
    return { graph, targets, plan, deployment, loaded, executor: (o) => new Executor(deployment, { log, ...o }), close: () => targets.close() };
  } catch (e) {
    await targets.close();
    throw e;
  }
}
