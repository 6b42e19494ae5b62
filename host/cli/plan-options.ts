// The planning flags shared by the commands that plan (plan, run, demo, eval).
import { Command, Option } from 'commander';
import type { PlanChoice } from '../run/session.ts';

export interface PlanChoiceFlags {
  strategy?: string;
  lambda: number;
  epsilon?: number;
  replicas?: number;
}

function unitInterval(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new Error(`${flag} must be a number in [0, 1], got "${v}"`);
    return n;
  };
}

export function addPlanChoiceOptions(cmd: Command, strategyNames: string[]): Command {
  return cmd
    .addOption(new Option('--strategy <name>', 'partitioning strategy (default microsplit, or replicated with --epsilon/--replicas)').choices(strategyNames))
    .option('--lambda <x>', 'energy sensitivity: 0 = latency only, 1 = energy only', unitInterval('--lambda'), 0)
    .addOption(new Option('--epsilon <e>', 'replicate fragments until each group fails with probability <= e').argParser(unitInterval('--epsilon')).conflicts('replicas'))
    .addOption(
      new Option('--replicas <k>', 'run every fragment on k devices (first result wins)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--replicas must be a positive integer, got "${v}"`);
        return n;
      }),
    );
}

/** Replication flags imply the replicated strategy; any other strategy with them is refused. */
export function planChoiceOf(f: PlanChoiceFlags): PlanChoice {
  const replicating = f.epsilon !== undefined || f.replicas !== undefined;
  const strategy = f.strategy ?? (replicating ? 'replicated' : 'microsplit');
  if (replicating && strategy !== 'replicated') throw new Error(`--epsilon and --replicas apply to --strategy replicated, not ${strategy}`);
  return { strategy, lambda: f.lambda, epsilon: f.epsilon, replicas: f.replicas };
}
