// Strategy name -> strategy.
import { equal } from './equal.ts';
import { ftpGrid } from './ftp-grid.ts';
import { layerwise } from './layerwise.ts';
import { microsplit } from './microsplit.ts';
import { optimal } from './optimal.ts';
import { replicated } from './replicated.ts';
import { single } from './single.ts';
import type { Strategy } from './types.ts';

export type { Strategy };

export const strategies: Record<string, Strategy> = Object.fromEntries(
  [microsplit, replicated, single, layerwise, equal, ftpGrid, optimal].map((s) => [s.name, s]),
);

export function strategyNamed(name: string): Strategy {
  const s = strategies[name];
  if (!s) throw new Error(`unknown strategy "${name}" (known: ${Object.keys(strategies).join(', ')})`);
  return s;
}
