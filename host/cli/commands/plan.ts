// `microsplit plan --model M --devices D.json | --testbed T.json`: partition a
// model across devices (from a profile file, or a testbed's own figures: the
// speeds, links and energy its simulator enforces), print the stages and each
// device's load, write the plan file.
// With --json the last line is one JSON object: { out, strategy, makespanS,
// energyJ, objective, lowerBoundS, devices: [{ device, fragments, peak, budget, busyS, energyJ }] }.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadModel } from '../../model/load.ts';
import { memoryDiagram } from '../../plan/memory.ts';
import { sha256, writePlan, type Plan } from '../../plan/plan-file.ts';
import { loadDevices } from '../../plan/profiles.ts';
import { strategies, strategyNamed } from '../../plan/strategies/index.ts';
import { testbedProfiles } from '../../run/testbed-profiles.ts';
import { loadTestbed } from '../../sim/testbed.ts';
import { printTable } from '../table.ts';

interface PlanOptions {
  model: string;
  devices?: string;
  testbed?: string;
  lambda: number;
  epsilon?: number;
  replicas?: number;
  strategy?: string;
  out: string;
  memory?: boolean;
  json?: boolean;
}

export function fraction(v: string, flag: string): number {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new Error(`${flag} must be a number in [0, 1], got "${v}"`);
  return x;
}

function positiveInt(v: string, flag: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new Error(`${flag} must be a positive integer, got "${v}"`);
  return x;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)}K`;

export function register(program: Command): void {
  program
    .command('plan')
    .description('partition a model across devices and write the plan file')
    .requiredOption('--model <file>', 'the model (.tflite or bundle)')
    .option('--devices <file>', 'device profiles (JSON: { devices: [...] }, see devices/demo.json)')
    .option('--testbed <file>', "plan for a testbed file's devices, from its own figures (see testbeds/)")
    .option('--lambda <x>', 'energy sensitivity in [0, 1]: 0 = latency only, 1 = energy only', (v) => fraction(v, '--lambda'), 0)
    .option('--epsilon <e>', 'replicate so each fragment group fails with probability <= e (implies --strategy replicated)', (v) => fraction(v, '--epsilon'))
    .option('--replicas <k>', 'replicate every fragment on k devices (implies --strategy replicated)', (v) => positiveInt(v, '--replicas'))
    .option('--strategy <name>', `one of: ${Object.keys(strategies).join(', ')} (default microsplit)`)
    .option('--out <file>', 'where to write the plan', 'plan.json')
    .option('--memory', "print each device's arena map")
    .option('--json', 'print one JSON object as the last line')
    .action(async (opts: PlanOptions) => {
      if (opts.epsilon !== undefined && opts.replicas !== undefined) throw new Error('give --epsilon or --replicas, not both');
      const replicating = opts.epsilon !== undefined || opts.replicas !== undefined;
      const name = opts.strategy ?? (replicating ? 'replicated' : 'microsplit');
      if (replicating && name !== 'replicated') throw new Error(`--epsilon and --replicas apply to --strategy replicated, not ${name}`);
      const strategy = strategyNamed(name);
      if ((opts.devices === undefined) === (opts.testbed === undefined)) throw new Error('give --devices FILE or --testbed FILE (one of them)');
      const devices = opts.devices ? loadDevices(opts.devices) : testbedProfiles(loadTestbed(opts.testbed!));
      const graph = await loadModel(opts.model);
      const model = { name: graph.name ?? opts.model, sha256: sha256(readFileSync(opts.model)) };
      const plan = await strategy.plan({ graph, model, devices, lambda: opts.lambda, epsilon: opts.epsilon, replicas: opts.replicas });
      writePlan(opts.out, plan);
      printPlan(plan);
      if (opts.memory) for (const m of plan.memory) console.log(memoryDiagram(m));
      console.log(`plan written to ${opts.out}`);
      if (opts.json) console.log(JSON.stringify(planSummary(plan, opts.out)));
    });
}

export function printPlan(plan: Plan): void {
  console.log(`${plan.strategy.name} plan for ${plan.model.name} on ${plan.devices.length} devices (lambda ${plan.strategy.lambda})`);
  printTable(
    ['stage', 'ops', 'split', 'fragments on devices', 'start ms', 'end ms'],
    plan.stages.map((s) => [
      String(s.index),
      s.ops.length > 1 ? `${s.ops[0]}-${s.ops[s.ops.length - 1]}` : String(s.ops[0]),
      s.where === 'gateway' ? 'gateway copy' : s.split,
      s.fragments.map((f) => f.devices.join('+')).join(' '),
      (s.predicted.start * 1e3).toFixed(2),
      (s.predicted.end * 1e3).toFixed(2),
    ]),
  );
  console.log('');
  printTable(
    ['device', 'fragments', 'peak / budget', 'busy ms', 'energy mJ'],
    plan.usage.map((u, i) => {
      const m = plan.memory[i];
      return [u.device, String(u.fragments), `${kb(m.peak)} / ${kb(m.budget)}`, (u.busyS * 1e3).toFixed(2), (u.energyJ * 1e3).toFixed(3)];
    }),
  );
  const p = plan.predicted;
  console.log(
    `\npredicted makespan ${(p.makespanS * 1e3).toFixed(2)} ms (lower bound ${(p.lowerBoundS * 1e3).toFixed(2)} ms), energy ${(p.energyJ * 1e3).toFixed(3)} mJ, objective ${p.objective.toFixed(4)}`,
  );
}

export function planSummary(plan: Plan, out: string) {
  return {
    out,
    strategy: plan.strategy.name,
    makespanS: plan.predicted.makespanS,
    energyJ: plan.predicted.energyJ,
    objective: plan.predicted.objective,
    lowerBoundS: plan.predicted.lowerBoundS,
    devices: plan.usage.map((u, i) => ({ ...u, peak: plan.memory[i].peak, budget: plan.memory[i].budget })),
  };
}
