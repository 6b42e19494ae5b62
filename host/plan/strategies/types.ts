// What a strategy is: a name and a function from a request to a plan.
import type { PlanRequest } from '../assemble.ts';
import type { Plan } from '../plan-file.ts';

export interface Strategy {
  name: string;
  /** What it does, one line, for `--help`. */
  summary: string;
  /** Resolves to a plan within every budget, or rejects with an InfeasibleError. */
  plan(req: PlanRequest): Promise<Plan>;
}
